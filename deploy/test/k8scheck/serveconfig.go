package main

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// serveConfig is the part of the mounted switchyard.yml these checks read.
type serveConfig struct {
	Server struct {
		ShutdownDelay       string `json:"shutdown_delay"`
		ShutdownGracePeriod string `json:"shutdown_grace_period"`
	} `json:"server"`
	Upstream *struct {
		URL   string `json:"url"`
		Token string `json:"token"`
	} `json:"upstream"`
	Storage     map[string]any `json:"storage"`
	Credentials map[string]any `json:"credentials"`
}

// serveConfigProblems checks the pod against the configuration its "config" volume mounts: the
// shutdown delay plus grace period fit in terminationGracePeriodSeconds, and a relay (the
// configuration has `upstream`) gets no Git source, no Git credentials, no SSH key nor
// known_hosts, and its upstream token from a Secret.
func serveConfigProblems(owner string, spec *corev1.PodSpec, objects []runtime.Object) []string {
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, owner+": "+fmt.Sprintf(format, a...)) }
	var text string
	found := false
	for _, v := range spec.Volumes {
		if v.Name != "config" || v.ConfigMap == nil {
			continue
		}
		for _, o := range objects {
			if cm, ok := o.(*corev1.ConfigMap); ok && cm.Name == v.ConfigMap.Name {
				text, found = cm.Data["switchyard.yml"]
			}
		}
	}
	if !found {
		bad("no ConfigMap with switchyard.yml mounted as volume \"config\"")
		return problems
	}
	var cfg serveConfig
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		bad("switchyard.yml: %v", err)
		return problems
	}
	delay, err1 := time.ParseDuration(orZero(cfg.Server.ShutdownDelay))
	grace, err2 := time.ParseDuration(orZero(cfg.Server.ShutdownGracePeriod))
	switch {
	case err1 != nil || err2 != nil:
		bad("server.shutdown_delay %q or shutdown_grace_period %q is not a duration", cfg.Server.ShutdownDelay, cfg.Server.ShutdownGracePeriod)
	case cfg.Server.ShutdownGracePeriod == "":
		bad("server.shutdown_grace_period is not rendered (the chart ties it to terminationGracePeriodSeconds)")
	case spec.TerminationGracePeriodSeconds == nil:
		bad("no terminationGracePeriodSeconds")
	case time.Duration(*spec.TerminationGracePeriodSeconds)*time.Second <= delay+grace:
		bad("terminationGracePeriodSeconds %d does not exceed server.shutdown_delay %v + shutdown_grace_period %v: the pod would be killed while it drains",
			*spec.TerminationGracePeriodSeconds, delay, grace)
	}
	if cfg.Upstream == nil {
		return problems
	}
	if cfg.Upstream.URL == "" {
		bad("relay: upstream.url is empty")
	}
	if len(cfg.Storage) > 0 || len(cfg.Credentials) > 0 {
		bad("relay: the configuration has storage or credentials (a relay follows its upstream, not Git)")
	}
	for _, v := range spec.Volumes {
		if v.Name == "ssh-key" || v.Name == "known-hosts" {
			bad("relay: volume %q (Git credentials) is rendered", v.Name)
		}
	}
	if cfg.Upstream.Token != "" {
		ok := false
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				if e.Name == "SWITCHYARD_UPSTREAM_TOKEN" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
					ok = cfg.Upstream.Token == "${env:SWITCHYARD_UPSTREAM_TOKEN}"
				}
			}
		}
		if !ok {
			bad("relay: upstream.token is not ${env:SWITCHYARD_UPSTREAM_TOKEN} from a Secret")
		}
	}
	return problems
}

func orZero(d string) string {
	if d == "" {
		return "0s"
	}
	return d
}
