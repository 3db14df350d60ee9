package main

// The -bench mode: requests/s of Flipt's gRPC Variant, the HTTP /evaluate/v1/variant and flagd's
// ResolveString (v2 and v1) against one server in one run, then 5,000 flagd EventStream
// subscribers notified of a commit. Figures go to BENCHMARKS.md (benches/grpc/run.sh).
//
// With -flagd-bin, flagd itself (a binary built elsewhere; nothing of flagd is in this
// repository) is started on a flag file holding the flag Switchyard's ResolveString is loaded
// with, written in flagd's format (flagdFlags), and its flagd.evaluation.v1 ResolveString is
// loaded with the same loader, connections, workers and duration as Switchyard's v1
// ResolveString, in rounds of alternating order; both rates and their ratio are printed.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// flagdFlags is corpus flag ns001/flag-1 (gen_corpus 400 40 4, the flag every ResolveString of
// this bench asks for) in flagd's format. The corpus flag: variants control (default),
// treatment-a, treatment-b; rule 1: segment seg-1 (plan == plan-1 AND age >= 1) → 34/33/33
// percent of control/treatment-a/treatment-b by a hash of the entity; rule 2: seg-5 AND seg-9
// (plan == plan-5 AND age >= 5 AND plan == plan-2 AND age >= 9) → treatment-a; metadata owner
// team-1. Here the same as JSONLogic: an `if` over the two conditions, `fractional` (flagd's
// hash bucketing of the targeting key) for rule 1, `null` (the default variant, reason
// DEFAULT, as Flipt's default variant) when neither matches. A ResolveString's value is the
// variant key on both servers. The loaded context (plan-3, age 30) matches neither rule on
// either server: both test both conditions, stop at plan, and answer control, DEFAULT.
const flagdFlags = `{
  "$schema": "https://flagd.dev/schema/v0/flags.json",
  "flags": {
    "flag-1": {
      "state": "ENABLED",
      "variants": {"control": "control", "treatment-a": "treatment-a", "treatment-b": "treatment-b"},
      "defaultVariant": "control",
      "metadata": {"owner": "team-1"},
      "targeting": {"if": [
        {"and": [{"==": [{"var": "plan"}, "plan-1"]}, {">=": [{"var": "age"}, 1]}]},
        {"fractional": [["control", 34], ["treatment-a", 33], ["treatment-b", 33]]},
        {"and": [{"==": [{"var": "plan"}, "plan-5"]}, {">=": [{"var": "age"}, 5]},
                 {"==": [{"var": "plan"}, "plan-2"]}, {">=": [{"var": "age"}, 9]}]},
        "treatment-a",
        null
      ]}
    }
  }
}
`

// startFlagd runs `flagd start` on flagdFlags with free ports; returns its evaluation address
// once /readyz (management port) answers 200, and a function that stops it.
func startFlagd(bin, work string) (string, func()) {
	dir, err := os.MkdirTemp(work, "flagd-")
	must(err, "flagd dir")
	flags := filepath.Join(dir, "flags.json")
	must(os.WriteFile(flags, []byte(flagdFlags), 0o644), "flagd flag file")
	port, mgmt, ofrep, syncPort := freePort(), freePort(), freePort(), freePort()
	log, err := os.Create(filepath.Join(dir, "flagd.log"))
	must(err, "flagd log")
	cmd := exec.Command(bin, "start", "--uri", "file:"+flags, "--port", fmt.Sprint(port),
		"--management-port", fmt.Sprint(mgmt), "--ofrep-port", fmt.Sprint(ofrep), "--sync-port", fmt.Sprint(syncPort))
	cmd.Stdout, cmd.Stderr = log, log
	must(cmd.Start(), "start flagd")
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", mgmt)); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return fmt.Sprintf("127.0.0.1:%d", port), stop
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	b, _ := os.ReadFile(log.Name())
	fmt.Println(string(b))
	must(fmt.Errorf("not ready within 30 s"), "flagd ready")
	return "", nil
}

// resolved is a ResolveString answer as "value/variant/reason".
func resolved(ctx context.Context, cc *grpc.ClientConn, method string, req *dynamicpb.Message, resp protoreflect.MessageDescriptor) string {
	m := dynamicpb.NewMessage(resp)
	if err := cc.Invoke(ctx, method, req, m); err != nil {
		return "error: " + err.Error()
	}
	f := resp.Fields()
	return m.Get(f.ByName("value")).String() + "/" + m.Get(f.ByName("variant")).String() + "/" + m.Get(f.ByName("reason")).String()
}

// load runs `call` from `workers` goroutines for `d`; returns calls/s and the failures.
func load(workers int, d time.Duration, call func(w int) error) (float64, int64) {
	var n, failed atomic.Int64
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for time.Now().Before(stop) {
				if call(w) != nil {
					failed.Add(1)
				} else {
					n.Add(1)
				}
			}
		}(w)
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds(), failed.Load()
}

func runBench(bin, work, corpus, protoDir string, msgs messages, seconds, subscribers int, flagdBin string, rounds int) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoDir}})}
	files, err := c.Compile(context.Background(), "flagd/evaluation/v2/evaluation.proto", "flagd/evaluation/v1/evaluation.proto")
	must(err, "compiling flagd's v2 and v1 protos")
	fm, v1m := files[0].Messages(), files[1].Messages()
	stringReq, stringResp := fm.ByName("ResolveStringRequest"), fm.ByName("ResolveStringResponse")
	v1Req, v1Resp := v1m.ByName("ResolveStringRequest"), v1m.ByName("ResolveStringResponse")
	eventReq, eventResp := fm.ByName("EventStreamRequest"), fm.ByName("EventStreamResponse")

	s := start(bin, work, corpus, "", "")
	defer s.kill()
	s.waitReady()
	ctx := authed(context.Background())
	const conns, workers = 4, 16
	var cs []*grpc.ClientConn
	for i := 0; i < conns; i++ {
		cc, err := grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
		must(err, "client")
		defer cc.Close()
		cs = append(cs, cc)
	}
	body := []byte(`{"namespaceKey":"ns001","flagKey":"flag-1","entityId":"user-7","context":{"plan":"plan-3","age":"30"}}`)
	req := fromJSON(msgs.request, body)
	sreq := fromJSON(stringReq, []byte(`{"flagKey":"flag-1","context":{"targetingKey":"user-7","plan":"plan-3","age":"30"}}`))
	d := time.Duration(seconds) * time.Second
	grpcRate, grpcFail := load(workers, d, func(w int) error {
		return cs[w%conns].Invoke(ctx, "/flipt.evaluation.EvaluationService/Variant", req, dynamicpb.NewMessage(msgs.variant))
	})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers}}
	httpRate, httpFail := load(workers, d, func(int) error {
		r, _ := http.NewRequest("POST", s.http+"/evaluate/v1/variant", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(r)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	sctx := authed(context.Background())
	flagdRate, flagdFail := load(workers, d, func(w int) error {
		// the selector picks the namespace of flag-1
		c := metadataCtx(sctx, "flagd-selector", "flagSetId=default/ns001")
		return cs[w%conns].Invoke(c, "/flagd.evaluation.v2.Service/ResolveString", sreq, dynamicpb.NewMessage(stringResp))
	})
	fmt.Printf("unary, %d workers over %d connections, %d s each, one run:\n", workers, conns, seconds)
	fmt.Printf("  gRPC Flipt Variant              %8.0f req/s (%d failed)\n", grpcRate, grpcFail)
	fmt.Printf("  HTTP /evaluate/v1/variant       %8.0f req/s (%d failed)\n", httpRate, httpFail)
	fmt.Printf("  gRPC flagd v2 ResolveString     %8.0f req/s (%d failed)\n", flagdRate, flagdFail)

	// flagd's v1 ResolveString: Switchyard's, and flagd's own when -flagd-bin is given, in rounds
	// of alternating order (round 1 Switchyard first, round 2 flagd first, ...).
	v1Body := []byte(`{"flagKey":"flag-1","context":{"targetingKey":"user-7","plan":"plan-3","age":"30"}}`)
	v1req := fromJSON(v1Req, v1Body)
	const v1Method = "/flagd.evaluation.v1.Service/ResolveString"
	syV1 := func(w int) error {
		c := metadataCtx(sctx, "flagd-selector", "flagSetId=default/ns001")
		return cs[w%conns].Invoke(c, v1Method, v1req, dynamicpb.NewMessage(v1Resp))
	}
	var fcs []*grpc.ClientConn
	if flagdBin != "" {
		addr, stop := startFlagd(flagdBin, work)
		defer stop()
		for i := 0; i < conns; i++ {
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			must(err, "flagd client")
			defer cc.Close()
			fcs = append(fcs, cc)
		}
		// The same answers: the loaded context, and one that matches rule 1 (the variant of the
		// 34/33/33 split differs, as the two hash differently).
		sel := metadataCtx(sctx, "flagd-selector", "flagSetId=default/ns001")
		for _, body := range [][]byte{v1Body, []byte(`{"flagKey":"flag-1","context":{"targetingKey":"user-7","plan":"plan-1","age":"30"}}`)} {
			r := fromJSON(v1Req, body)
			fmt.Printf("  v1 ResolveString %s: Switchyard %s, flagd %s\n", body,
				resolved(sel, cs[0], v1Method, r, v1Resp), resolved(context.Background(), fcs[0], v1Method, r, v1Resp))
		}
	}
	flagdV1 := func(w int) error {
		return fcs[w%conns].Invoke(context.Background(), v1Method, v1req, dynamicpb.NewMessage(v1Resp))
	}
	if flagdBin == "" {
		rounds = 1
	}
	var syN, fdN float64
	var syF, fdF int64
	for r := 0; r < rounds; r++ {
		var sy, fd float64
		var syf, fdf int64
		if flagdBin != "" && r%2 == 1 {
			fd, fdf = load(workers, d, flagdV1)
		}
		sy, syf = load(workers, d, syV1)
		if flagdBin != "" && r%2 == 0 {
			fd, fdf = load(workers, d, flagdV1)
		}
		syN, fdN, syF, fdF = syN+sy, fdN+fd, syF+syf, fdF+fdf
		if flagdBin != "" {
			first := "Switchyard"
			if r%2 == 1 {
				first = "flagd"
			}
			fmt.Printf("  round %d (%s first): Switchyard v1 ResolveString %8.0f req/s (%d failed), flagd %8.0f req/s (%d failed), ratio %.2f\n",
				r+1, first, sy, syf, fd, fdf, sy/fd)
		}
	}
	fmt.Printf("  gRPC flagd v1 ResolveString     %8.0f req/s (%d failed)%s\n", syN/float64(rounds), syF,
		map[bool]string{true: fmt.Sprintf(", mean of %d rounds", rounds), false: ""}[rounds > 1])
	if flagdBin != "" {
		ratio := syN / fdN
		verdict := "met"
		if ratio < 2 {
			verdict = "NOT met"
		}
		fmt.Printf("  flagd itself, v1 ResolveString  %8.0f req/s (%d failed), mean of %d rounds\n", fdN/float64(rounds), fdF, rounds)
		fmt.Printf("  ratio Switchyard / flagd: %.2f (target >= 2: %s)\n", ratio, verdict)
	}

	// Fan-out: subscribers over connections of at most 100 streams each.
	perConn := 90
	var streams []grpc.ClientStream
	var scs []*grpc.ClientConn
	for len(streams) < subscribers {
		if len(streams)%perConn == 0 {
			cc, err := grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
			must(err, "fan-out client")
			defer cc.Close()
			scs = append(scs, cc)
		}
		cc := scs[len(scs)-1]
		st, err := cc.NewStream(metadataCtx(authed(context.Background()), "flagd-selector", "flagSetId=default/ns000"),
			&grpc.StreamDesc{ServerStreams: true}, "/flagd.evaluation.v2.Service/EventStream")
		must(err, "event stream")
		must(st.SendMsg(dynamicpb.NewMessage(eventReq)), "event request")
		must(st.CloseSend(), "close send")
		first := dynamicpb.NewMessage(eventResp)
		must(st.RecvMsg(first), "provider_ready")
		streams = append(streams, st)
	}
	typeField := eventResp.Fields().ByName("type")
	var got sync.WaitGroup
	lat := make([]time.Duration, len(streams))
	var sent time.Time
	var sentMu sync.RWMutex
	sentMu.Lock()
	for i, st := range streams {
		got.Add(1)
		go func(i int, st grpc.ClientStream) {
			defer got.Done()
			for {
				m := dynamicpb.NewMessage(eventResp)
				if st.RecvMsg(m) != nil {
					lat[i] = -1
					return
				}
				if m.Get(typeField).String() == "configuration_change" {
					sentMu.RLock()
					lat[i] = time.Since(sent)
					sentMu.RUnlock()
					return
				}
			}
		}(i, st)
	}
	file := filepath.Join(s.repo, "ns000", "features.yaml")
	text, err := os.ReadFile(file)
	must(err, "read flags")
	must(os.WriteFile(file, []byte(strings.Replace(string(text), "enabled: true", "enabled: false", 1)), 0o644), "write flags")
	git(s.repo, "commit", "-q", "-am", "change for the fan-out")
	r, _ := http.NewRequest("POST", s.http+"/api/v1/sync", nil)
	r.Header.Set("Authorization", "Bearer "+adminToken)
	sent = time.Now()
	sentMu.Unlock()
	resp, err := http.DefaultClient.Do(r)
	must(err, "sync")
	resp.Body.Close()
	done := make(chan struct{})
	go func() { got.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		fmt.Println("  fan-out: not every subscriber notified within 30 s")
	}
	var ok []time.Duration
	for _, l := range lat {
		if l > 0 {
			ok = append(ok, l)
		}
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i] < ok[j] })
	if len(ok) > 0 {
		fmt.Printf("fan-out: %d of %d EventStream subscribers (%d connections) got configuration_change; from POST /api/v1/sync (fetch, compile, swap included): first %v, median %v, last %v\n",
			len(ok), len(streams), len(scs), ok[0].Round(time.Millisecond), ok[len(ok)/2].Round(time.Millisecond), ok[len(ok)-1].Round(time.Millisecond))
	}
	verdict := "met"
	if len(ok) < len(streams) || len(ok) == 0 || ok[len(ok)-1] > time.Second {
		verdict = "NOT met"
	}
	fmt.Printf("fan-out target (every one of %d subscribers within 1 s): %s\n", len(streams), verdict)
}
