package server

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/baco-go/baco/core/route"
)

// metrics are the server's Prometheus collectors, in a registry of its own
// (no global state: two servers in one process do not share counters).
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec   // handler, code
	duration  *prometheus.HistogramVec // handler
	inFlight  prometheus.Gauge
	tokens    *prometheus.CounterVec // model, source
	prompt    *prometheus.CounterVec // model
	queueFull *prometheus.CounterVec // model
	step      *prometheus.HistogramVec
	ttft      *prometheus.HistogramVec

	perModel map[string]*modelMetrics
}

// modelMetrics are one model's collectors with their labels bound, so the
// batcher goroutine's per-token updates do no label lookups.
type modelMetrics struct {
	tokens    [3]prometheus.Counter // by route.Source
	prompt    prometheus.Counter
	queueFull prometheus.Counter
	step      prometheus.Observer
	ttft      prometheus.Observer
}

// latencyBuckets span 1 ms to ~16 s.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 15)

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baco_http_requests_total", Help: "HTTP requests by handler and status code.",
		}, []string{"handler", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baco_http_request_duration_seconds", Help: "HTTP request latency, arrival to last byte.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"handler"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "baco_http_requests_in_flight", Help: "HTTP requests being served.",
		}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baco_generated_tokens_total", Help: "Generated tokens by model id and the source that emitted them (base, aligned, mixed).",
		}, []string{"model", "source"}),
		prompt: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baco_prompt_tokens_total", Help: "Prompt tokens (aligned model's prompt) by model id.",
		}, []string{"model"}),
		queueFull: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "baco_queue_full_total", Help: "Requests refused with 429 because the model's queue was full.",
		}, []string{"model"}),
		step: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baco_step_seconds", Help: "Decode step latency: one step of the pipeline's batch (every running sequence gets one token).",
			Buckets: latencyBuckets,
		}, []string{"model"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "baco_time_to_first_token_seconds", Help: "Time from submitting a request to its first token (queueing and prefill).",
			Buckets: latencyBuckets,
		}, []string{"model"}),
		perModel: map[string]*modelMetrics{},
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.tokens, m.prompt, m.queueFull, m.step, m.ttft,
		&batchCollector{s: s}, prometheus.NewGoCollector())
	for _, sv := range s.models {
		id := sv.m.ID
		mm := &modelMetrics{
			prompt:    m.prompt.WithLabelValues(id),
			queueFull: m.queueFull.WithLabelValues(id),
			step:      m.step.WithLabelValues(id),
			ttft:      m.ttft.WithLabelValues(id),
		}
		for _, src := range []route.Source{route.Aligned, route.Base, route.Mixed} {
			mm.tokens[src] = m.tokens.WithLabelValues(id, src.String())
		}
		m.perModel[id] = mm
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// batchCollector reports each batcher's queue depth and running sequences
// when scraped.
type batchCollector struct{ s *Server }

var (
	queueDepthDesc = prometheus.NewDesc("baco_queue_depth", "Requests waiting to join the model's batch.", []string{"model"}, nil)
	runningDesc    = prometheus.NewDesc("baco_running_sequences", "Sequences in the model's running batch.", []string{"model"}, nil)
)

// Describe implements prometheus.Collector.
func (c *batchCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueDepthDesc
	ch <- runningDesc
}

// Collect implements prometheus.Collector.
func (c *batchCollector) Collect(ch chan<- prometheus.Metric) {
	for _, sv := range c.s.models {
		st := sv.batcher.Stats()
		ch <- prometheus.MustNewConstMetric(queueDepthDesc, prometheus.GaugeValue, float64(st.Queued), sv.m.ID)
		ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(st.Running), sv.m.ID)
	}
}
