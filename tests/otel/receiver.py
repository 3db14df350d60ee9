"""A real OTLP receiver on loopback: OTLP/gRPC (grpcio, the official OpenTelemetry protos from
PyPI's opentelemetry-proto) and OTLP/HTTP with protobuf bodies (/v1/traces, /v1/metrics).
Every span and metric point it decodes is kept as a plain dict for the test to assert on."""
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


def any_value(v):
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


class Receiver:
    def __init__(self):
        self.lock = threading.Lock()
        self.spans, self.points = [], []
        self.requests = {"grpc": 0, "http": 0}

    def traces(self, req, transport):
        with self.lock:
            self.requests[transport] += 1
            for rs in req.resource_spans:
                resource = attributes(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        self.spans.append({
                            "transport": transport, "resource": resource,
                            "scope": ss.scope.name, "name": s.name,
                            "trace_id": s.trace_id.hex(), "span_id": s.span_id.hex(),
                            "parent_span_id": s.parent_span_id.hex(), "kind": s.kind,
                            "attributes": attributes(s.attributes),
                            "events": [e.name for e in s.events],
                            "status": s.status.code,
                        })

    def metrics(self, req, transport):
        with self.lock:
            self.requests[transport] += 1
            for rm in req.resource_metrics:
                resource = attributes(rm.resource.attributes)
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        for p in getattr(m, kind).data_points:
                            if kind == "histogram":
                                value = p.count
                            else:
                                value = getattr(p, p.WhichOneof("value"))
                            self.points.append({
                                "transport": transport, "resource": resource,
                                "name": m.name, "kind": kind, "unit": m.unit,
                                "attributes": attributes(p.attributes), "value": value,
                            })

    def snapshot(self):
        with self.lock:
            return list(self.spans), list(self.points)

    def start_grpc(self, port):
        rec = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request, context):
                rec.traces(request, "grpc")
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request, context):
                rec.metrics(request, "grpc")
                return metrics_service_pb2.ExportMetricsServiceResponse()

        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        server.start()
        return server

    def start_http(self, port):
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.path == "/v1/traces":
                    rec.traces(trace_service_pb2.ExportTraceServiceRequest.FromString(body), "http")
                    out = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
                elif self.path == "/v1/metrics":
                    rec.metrics(metrics_service_pb2.ExportMetricsServiceRequest.FromString(body), "http")
                    out = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
