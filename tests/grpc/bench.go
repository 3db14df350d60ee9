package main

// The -bench mode: requests/s of Flipt's gRPC Variant, the HTTP /evaluate/v1/variant and flagd's
// ResolveString (v2) against one server in one run, then 5,000 flagd EventStream subscribers
// notified of a commit. Figures go to BENCHMARKS.md (benches/grpc/run.sh).

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bufbuild/protocompile"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/dynamicpb"
)

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

func runBench(bin, work, corpus, protoDir string, msgs messages, seconds int, subscribers int) {
	c := protocompile.Compiler{Resolver: protocompile.WithStandardImports(&protocompile.SourceResolver{ImportPaths: []string{protoDir}})}
	files, err := c.Compile(context.Background(), "flagd/evaluation/v2/evaluation.proto")
	must(err, "compiling flagd's v2 proto")
	fm := files[0].Messages()
	stringReq, stringResp := fm.ByName("ResolveStringRequest"), fm.ByName("ResolveStringResponse")
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
	fmt.Printf("unary, %d workers, %d s each, one run:\n", workers, seconds)
	fmt.Printf("  gRPC Flipt Variant        %8.0f req/s (%d failed)\n", grpcRate, grpcFail)
	fmt.Printf("  HTTP /evaluate/v1/variant %8.0f req/s (%d failed)\n", httpRate, httpFail)
	fmt.Printf("  gRPC flagd ResolveString  %8.0f req/s (%d failed)\n", flagdRate, flagdFail)

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
}
