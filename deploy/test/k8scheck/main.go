// Command k8scheck decodes every object of rendered Kubernetes manifests strictly against the
// API's Go types (k8s.io/api, and the Prometheus Operator's for ServiceMonitor): an unknown or
// duplicated field, a wrong type or an unknown kind is an error. It then checks how the chart's
// objects fit together: selectors match the pod labels, probes and ports are the documented
// ones, volumes and ConfigMaps exist, every container is hardened, the mounted configuration's
// shutdown timings fit in terminationGracePeriodSeconds, and a relay gets no Git credentials.
//
//	helm template ... | k8scheck -        # or: k8scheck FILE...
//	k8scheck -configmaps DIR FILE...      # also writes each ConfigMap key to DIR/NAME/KEY
//
// Exit 0 when every object passes, 1 with one line per problem otherwise.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

func main() {
	configMapDir := flag.String("configmaps", "", "write every ConfigMap's data to `DIR`/NAME/KEY")
	flag.Parse()
	problems, count, err := run(flag.Args(), *configMapDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8scheck:", err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Println("k8scheck:", p)
	}
	if len(problems) > 0 {
		fmt.Printf("k8scheck: %d object(s), %d problem(s)\n", count, len(problems))
		os.Exit(1)
	}
	fmt.Printf("k8scheck: %d object(s) decoded strictly, no problems\n", count)
}

func run(args []string, configMapDir string) ([]string, int, error) {
	if len(args) == 0 {
		return nil, 0, errors.New("usage: k8scheck FILE... (- for stdin)")
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, networkingv1.AddToScheme,
		policyv1.AddToScheme, autoscalingv2.AddToScheme, monitoringv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, 0, err
		}
	}
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	var objects []runtime.Object
	var problems []string
	for _, name := range args {
		docs, err := documents(name)
		if err != nil {
			return nil, 0, err
		}
		for i, doc := range docs {
			obj, gvk, err := decoder.Decode(doc, nil, nil)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: document %d: %v", name, i+1, err))
				continue
			}
			if gvk == nil {
				problems = append(problems, fmt.Sprintf("%s: document %d: no kind", name, i+1))
				continue
			}
			objects = append(objects, obj)
		}
	}
	problems = append(problems, consistency(objects)...)
	if configMapDir != "" {
		if err := writeConfigMaps(objects, configMapDir); err != nil {
			return nil, 0, err
		}
	}
	return problems, len(objects), nil
}

// writeConfigMaps writes each ConfigMap key to dir/NAME/KEY, for checks of the rendered files.
func writeConfigMaps(objects []runtime.Object, dir string) error {
	for _, o := range objects {
		cm, ok := o.(*corev1.ConfigMap)
		if !ok {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, cm.Name), 0o755); err != nil {
			return err
		}
		for key, value := range cm.Data {
			if err := os.WriteFile(filepath.Join(dir, cm.Name, key), []byte(value), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// documents splits a YAML stream into its non-empty documents.
func documents(name string) ([][]byte, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	var docs [][]byte
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(bytes.TrimSpace(stripComments(doc))) > 0 {
			docs = append(docs, doc)
		}
	}
}

func stripComments(doc []byte) []byte {
	var out []byte
	for _, line := range bytes.Split(doc, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			out = append(out, line...)
			out = append(out, '\n')
		}
	}
	return out
}

// consistency checks the references between the rendered objects.
func consistency(objects []runtime.Object) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	configMaps := map[string]bool{}
	services := map[string]*corev1.Service{}
	workloads := map[string]string{} // name -> kind
	claims := map[string]bool{}      // a StatefulSet's volumeClaimTemplates
	var pods []struct {
		owner    string
		selector map[string]string
		spec     *corev1.PodTemplateSpec
	}
	for _, o := range objects {
		switch v := o.(type) {
		case *corev1.ConfigMap:
			configMaps[v.Name] = true
		case *corev1.Service:
			services[v.Name] = v
		case *appsv1.Deployment:
			workloads[v.Name] = "Deployment"
			pods = append(pods, struct {
				owner    string
				selector map[string]string
				spec     *corev1.PodTemplateSpec
			}{"Deployment/" + v.Name, v.Spec.Selector.MatchLabels, &v.Spec.Template})
		case *appsv1.StatefulSet:
			workloads[v.Name] = "StatefulSet"
			for _, c := range v.Spec.VolumeClaimTemplates {
				claims[c.Name] = true
			}
			if _, ok := findService(objects, v.Spec.ServiceName); !ok {
				bad("StatefulSet/%s: serviceName %q is not a rendered Service", v.Name, v.Spec.ServiceName)
			}
			pods = append(pods, struct {
				owner    string
				selector map[string]string
				spec     *corev1.PodTemplateSpec
			}{"StatefulSet/" + v.Name, v.Spec.Selector.MatchLabels, &v.Spec.Template})
		}
	}
	if len(pods) != 1 {
		bad("expected exactly one Deployment or StatefulSet, found %d", len(pods))
		return problems
	}
	pod := pods[0]
	labels := pod.spec.Labels
	if !subset(pod.selector, labels) || len(pod.selector) == 0 {
		bad("%s: selector %v does not select its pod labels %v", pod.owner, pod.selector, labels)
	}
	problems = append(problems, podProblems(pod.owner, &pod.spec.Spec, configMaps, claims)...)
	problems = append(problems, serveConfigProblems(pod.owner, &pod.spec.Spec, objects)...)
	ports := map[string]bool{}
	for _, c := range pod.spec.Spec.Containers {
		for _, p := range c.Ports {
			ports[p.Name] = true
		}
	}
	for _, s := range services {
		if !subset(s.Spec.Selector, labels) || len(s.Spec.Selector) == 0 {
			bad("Service/%s: selector %v does not select the pods %v", s.Name, s.Spec.Selector, labels)
		}
		for _, p := range s.Spec.Ports {
			if p.TargetPort.StrVal != "" && !ports[p.TargetPort.StrVal] {
				bad("Service/%s: targetPort %q is not a container port", s.Name, p.TargetPort.StrVal)
			}
		}
	}
	for _, o := range objects {
		switch v := o.(type) {
		case *networkingv1.Ingress:
			for _, r := range v.Spec.Rules {
				if r.HTTP == nil {
					continue
				}
				for _, p := range r.HTTP.Paths {
					if p.Backend.Service == nil {
						bad("Ingress/%s: a path without a Service backend", v.Name)
						continue
					}
					s, ok := services[p.Backend.Service.Name]
					if !ok {
						bad("Ingress/%s: backend %q is not a rendered Service", v.Name, p.Backend.Service.Name)
					} else if !hasPort(s, p.Backend.Service.Port.Name, p.Backend.Service.Port.Number) {
						bad("Ingress/%s: Service/%s has no port %v", v.Name, s.Name, p.Backend.Service.Port)
					}
				}
			}
		case *policyv1.PodDisruptionBudget:
			if v.Spec.Selector == nil || !subset(v.Spec.Selector.MatchLabels, labels) {
				bad("PodDisruptionBudget/%s: selector does not select the pods", v.Name)
			}
			if (v.Spec.MinAvailable == nil) == (v.Spec.MaxUnavailable == nil) {
				bad("PodDisruptionBudget/%s: set exactly one of minAvailable and maxUnavailable", v.Name)
			}
		case *autoscalingv2.HorizontalPodAutoscaler:
			ref := v.Spec.ScaleTargetRef
			if workloads[ref.Name] != ref.Kind || ref.APIVersion != "apps/v1" {
				bad("HorizontalPodAutoscaler/%s: scaleTargetRef %s %s/%s is not the rendered workload", v.Name, ref.APIVersion, ref.Kind, ref.Name)
			}
			if len(v.Spec.Metrics) == 0 {
				bad("HorizontalPodAutoscaler/%s: no metrics", v.Name)
			}
		case *monitoringv1.ServiceMonitor:
			matched := 0
			for _, s := range services {
				if subset(v.Spec.Selector.MatchLabels, s.Labels) {
					matched++
					for _, e := range v.Spec.Endpoints {
						if !hasPort(s, e.Port, 0) {
							bad("ServiceMonitor/%s: Service/%s has no port %q", v.Name, s.Name, e.Port)
						}
						if e.Path != "/metrics" {
							bad("ServiceMonitor/%s: path %q, expected /metrics", v.Name, e.Path)
						}
					}
				}
			}
			if matched != 1 {
				bad("ServiceMonitor/%s: selects %d Services, expected exactly 1", v.Name, matched)
			}
		}
	}
	return problems
}

// podProblems checks probes, hardening and volumes of the pod.
func podProblems(owner string, spec *corev1.PodSpec, configMaps, claims map[string]bool) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, owner+": "+fmt.Sprintf(format, a...)) }
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		bad("pod securityContext.runAsNonRoot is not true")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad("pod securityContext.seccompProfile is not RuntimeDefault")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		bad("automountServiceAccountToken is not false")
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
		if v.ConfigMap != nil && !configMaps[v.ConfigMap.Name] {
			bad("volume %q: ConfigMap %q is not rendered", v.Name, v.ConfigMap.Name)
		}
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		switch {
		case sc == nil:
			bad("container %s: no securityContext", c.Name)
		default:
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				bad("container %s: readOnlyRootFilesystem is not true", c.Name)
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				bad("container %s: allowPrivilegeEscalation is not false", c.Name)
			}
			if sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
				bad("container %s: capabilities do not drop ALL", c.Name)
			}
		}
		probe := func(kind string, p *corev1.Probe, path string) {
			if p == nil || p.HTTPGet == nil {
				bad("container %s: no HTTP %s probe", c.Name, kind)
				return
			}
			if p.HTTPGet.Path != path || p.HTTPGet.Port.StrVal != "http" {
				bad("container %s: %s probe %s on port %v, expected %s on port http", c.Name, kind, p.HTTPGet.Path, p.HTTPGet.Port.String(), path)
			}
		}
		probe("readiness", c.ReadinessProbe, "/ready")
		probe("liveness", c.LivenessProbe, "/health")
		probe("startup", c.StartupProbe, "/health")
		tmp := false
		for _, m := range c.VolumeMounts {
			v, ok := volumes[m.Name]
			if !ok && !claims[m.Name] {
				bad("container %s: mount %q has no volume", c.Name, m.Name)
			}
			if m.MountPath == "/tmp" && ok && v.EmptyDir != nil {
				tmp = true
			}
		}
		if !tmp {
			bad("container %s: /tmp is not a writable emptyDir (TMPDIR with a read-only root)", c.Name)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			env[e.Name] = e.Value
		}
		if env["TMPDIR"] != "/tmp" {
			bad("container %s: TMPDIR is %q, expected /tmp", c.Name, env["TMPDIR"])
		}
	}
	return problems
}

func findService(objects []runtime.Object, name string) (*corev1.Service, bool) {
	for _, o := range objects {
		if s, ok := o.(*corev1.Service); ok && s.Name == name {
			return s, true
		}
	}
	return nil, false
}

func hasPort(s *corev1.Service, name string, number int32) bool {
	for _, p := range s.Spec.Ports {
		if (name != "" && p.Name == name) || (number != 0 && p.Port == number) {
			return true
		}
	}
	return false
}

// subset reports whether every key of want has the same value in have.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
