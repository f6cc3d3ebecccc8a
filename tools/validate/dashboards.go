package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/piechart"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The dashboards are generated from this file (`go run . --write-dashboards`) and the
// validator checks that the committed JSON matches it.

const (
	datasourceUID = "influxdb-probes"
	// Request filter from the dashboard variables; every probe point carries location
	// (service calls do not: the Service calls dashboard has no location variable).
	reqFilter = `"location" =~ /^$location$/ AND "scenario" =~ /^$scenario$/ AND "target" =~ /^$target$/`
	scnFilter = `"location" =~ /^$location$/ AND "scenario" =~ /^$scenario$/`
)

func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr(influxType), Uid: cog.ToPtr(datasourceUID)}
}

func influxQL(refID, query, alias string) *influxQueryBuilder {
	ds := datasourceRef()
	return &influxQueryBuilder{q: InfluxQuery{
		RefId: refID, Datasource: &ds, Query: query, RawQuery: true,
		ResultFormat: "time_series", Alias: alias,
	}}
}

func influxTable(refID, query string) *influxQueryBuilder {
	b := influxQL(refID, query, "")
	b.q.ResultFormat = "table"
	return b
}

// layout places panels left to right in rows 24 units wide.
type layout struct{ x, y, rowH uint32 }

func (l *layout) next(w, h uint32) dashboard.GridPos {
	if l.x+w > 24 {
		l.x, l.y, l.rowH = 0, l.y+l.rowH, 0
	}
	pos := dashboard.GridPos{X: l.x, Y: l.y, W: w, H: h}
	l.x += w
	if h > l.rowH {
		l.rowH = h
	}
	return pos
}

// Values come from requests and errors, so a target that only ever fails is listed too.
func tagVariable(key, label string) *dashboard.QueryVariableBuilder {
	query := `SHOW TAG VALUES FROM "http_request", "http_error" WITH KEY = "` + key + `"`
	return dashboard.NewQueryVariableBuilder(key).
		Label(label).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query).
		Multi(true).
		IncludeAll(true).
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		}).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc)
}

func baseDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{"backend-call-timing"}).
		Refresh("5s").
		Time("now-15m", "now").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(tagVariable("location", "Location")).
		WithVariable(tagVariable("scenario", "Scenario")).
		WithVariable(tagVariable("target", "Target")).
		Link(dashboard.NewDashboardLinkBuilder("Backend call timing").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"backend-call-timing"}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true))
}

func legendTable() *common.VizLegendOptionsBuilder {
	return common.NewVizLegendOptionsBuilder().
		DisplayMode(common.LegendDisplayModeTable).
		Placement(common.LegendPlacementBottom).
		ShowLegend(true).
		Calcs([]string{"mean", "lastNotNull", "max"})
}

func msSeries(title, description string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit("ms").
		Min(0).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(true)}).
		Tooltip(multiTooltip()).
		Legend(legendTable())
}

func multiTooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().
		Mode(common.TooltipDisplayModeMulti).
		Sort(common.SortOrderDescending)
}

// newTable is a table panel without footer.
func newTable(title, description string) *table.PanelBuilder {
	return table.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		CellHeight(common.TableCellHeightSm).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"}).CountRows(false))
}

func countBars(title, description string) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit("short").
		Min(0).
		Decimals(0).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		LineWidth(1).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal).Group("A")).
		Tooltip(multiTooltip()).
		Legend(common.NewVizLegendOptionsBuilder().
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			ShowLegend(true).
			Calcs([]string{"sum"}))
}

func overviewDashboard() (dashboard.Dashboard, error) {
	var l layout
	return baseDashboard("probes-overview", "Backend calls: overview",
		"Total time of every backend call per scenario and target, round time per scenario, errors, and the 2x2 comparison.").
		WithPanel(msSeries("Request total time by scenario and target",
			"Mean http_request total_ms per interval.").
			GridPos(l.next(24, 9)).
			WithTarget(influxQL("A",
				`SELECT mean("total_ms") FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY time($__interval), "scenario", "target" fill(null)`,
				"$tag_scenario $tag_target"))).
		WithPanel(msSeries("Round time by scenario",
			"Time of one probe round (all targets). Sequential probes take about the sum of the calls, concurrent ones about the slowest call.").
			GridPos(l.next(12, 9)).
			WithTarget(influxQL("A",
				`SELECT mean("total_ms") FROM "probe_round" WHERE $timeFilter AND `+scnFilter+
					` GROUP BY time($__interval), "scenario", "location" fill(null)`,
				"$tag_scenario @ $tag_location"))).
		WithPanel(countBars("Errors by class",
			"Failed calls per interval: bars by error_class (http_error); the line counts every error of the selected scenarios (probe_round.errors) and stays at 0 while all is well.").
			GridPos(l.next(12, 9)).
			NoValue("0").
			WithTarget(influxQL("A",
				`SELECT sum("count") FROM "http_error" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY time($__interval), "error_class" fill(0)`,
				"$tag_error_class")).
			WithTarget(influxQL("B",
				`SELECT sum("errors") FROM "probe_round" WHERE $timeFilter AND `+scnFilter+
					` GROUP BY time($__interval) fill(0)`,
				"all errors")).
			WithOverride(dashboard.MatcherConfig{Id: "byName", Options: "all errors"},
				[]dashboard.DynamicConfigValue{
					{Id: "custom.drawStyle", Value: "line"},
					{Id: "custom.fillOpacity", Value: 0},
					{Id: "custom.stacking", Value: map[string]any{"mode": "none", "group": "A"}},
				})).
		WithPanel(newTable("2x2 comparison: round time per scenario and location",
			"Round time over the selected range: fresh vs reused connections, sequential vs concurrent calls, per probe location.").
			GridPos(l.next(12, 8)).
			Unit("ms").
			Decimals(1).
			WithOverride(dashboard.MatcherConfig{Id: "byName", Options: "rounds"},
				[]dashboard.DynamicConfigValue{{Id: "unit", Value: "short"}, {Id: "decimals", Value: 0}}).
			WithTarget(influxTable("A",
				`SELECT mean("total_ms") AS "mean", percentile("total_ms", 50) AS "p50", percentile("total_ms", 95) AS "p95", count("total_ms") AS "rounds" FROM "probe_round" WHERE $timeFilter AND `+scnFilter+
					` GROUP BY "scenario", "location"`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
			}})).
		WithPanel(newTable("Request time per scenario and target",
			"http_request total_ms over the selected range.").
			GridPos(l.next(12, 8)).
			Unit("ms").
			Decimals(1).
			WithOverride(dashboard.MatcherConfig{Id: "byName", Options: "requests"},
				[]dashboard.DynamicConfigValue{{Id: "unit", Value: "short"}, {Id: "decimals", Value: 0}}).
			WithTarget(influxTable("A",
				`SELECT mean("total_ms") AS "mean", percentile("total_ms", 50) AS "p50", percentile("total_ms", 95) AS "p95", count("total_ms") AS "requests" FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY "scenario", "target"`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
			}})).
		WithPanel(newTable("Probe sinks",
			"Points each probe sent to and dropped before its sink (cumulative since the probe started).").
			GridPos(l.next(12, 7)).
			Decimals(0).
			WithTarget(influxTable("A",
				`SELECT last("sent") AS "sent", last("dropped") AS "dropped" FROM "probe_sink" WHERE $timeFilter AND `+scnFilter+
					` GROUP BY "scenario", "location", "sink"`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
			}})).
		WithPanel(timeseries.NewPanelBuilder().
			Title("Telegraf output buffer and drops").
			Description("From Telegraf's internal metrics: points waiting in each output's buffer, and points dropped.").
			Datasource(datasourceRef()).
			GridPos(l.next(12, 7)).
			Unit("short").
			Min(0).
			Tooltip(multiTooltip()).
			Legend(common.NewVizLegendOptionsBuilder().
				DisplayMode(common.LegendDisplayModeList).
				Placement(common.LegendPlacementBottom).
				ShowLegend(true)).
			WithTarget(influxQL("A",
				`SELECT max("buffer_size") AS "buffer", max("metrics_dropped") AS "dropped" FROM "internal_write" WHERE $timeFilter GROUP BY time($__interval), "output" fill(null)`,
				"$tag_output $col"))).
		Build()
}

func phaseSeries(field, title, description string) *timeseries.PanelBuilder {
	return msSeries(title, description).
		WithTarget(influxQL("A",
			`SELECT mean("`+field+`") FROM "http_request" WHERE $timeFilter AND `+reqFilter+
				` GROUP BY time($__interval), "scenario" fill(null)`,
			"$tag_scenario"))
}

func phasesDashboard() (dashboard.Dashboard, error) {
	var l layout
	return baseDashboard("probes-phases", "Backend calls: phases",
		"Where the time of a call goes: DNS, TCP connect, TLS, time to first byte, body; connection reuse and DNS cache.").
		WithPanel(newTable("Mean phase times per scenario and location",
			"dns, connect and tls are averaged over the calls where that step happened; one row per scenario and probe location.").
			GridPos(l.next(24, 7)).
			Unit("ms").
			Decimals(1).
			WithTarget(influxTable("A",
				`SELECT mean("dns_ms") AS "dns", mean("connect_ms") AS "connect", mean("tls_ms") AS "tls", mean("ttfb_ms") AS "ttfb", mean("body_ms") AS "body", mean("total_ms") AS "total" FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY "scenario", "location"`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
			}})).
		WithPanel(phaseSeries("dns_ms", "DNS lookup", "Only calls that resolved a name.").GridPos(l.next(8, 8))).
		WithPanel(phaseSeries("connect_ms", "TCP connect", "Only calls that opened a connection.").GridPos(l.next(8, 8))).
		WithPanel(phaseSeries("tls_ms", "TLS handshake", "Only calls that opened a TLS connection.").GridPos(l.next(8, 8))).
		WithPanel(phaseSeries("ttfb_ms", "Time to first byte", "From the start of the call to the first response byte.").GridPos(l.next(12, 8))).
		WithPanel(phaseSeries("body_ms", "Body", "From the first response byte to the end of the body.").GridPos(l.next(12, 8))).
		WithPanel(piechart.NewPanelBuilder().
			Title("Connection reuse: $scenario").
			Description("Share of calls that reused a pooled connection (reused tag).").
			Datasource(datasourceRef()).
			GridPos(l.next(6, 8)).
			Repeat("scenario").
			RepeatDirection(dashboard.PanelRepeatDirectionH).
			MaxPerRow(4).
			Unit("short").
			PieType(piechart.PieChartTypeDonut).
			Orientation(common.VizOrientationAuto).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeSingle).Sort(common.SortOrderNone)).
			DisplayLabels([]piechart.PieChartLabels{piechart.PieChartLabelsPercent}).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"sum"}).Values(false)).
			Legend(piechart.NewPieChartLegendOptionsBuilder().
				DisplayMode(common.LegendDisplayModeList).
				Placement(common.LegendPlacementBottom).
				ShowLegend(true).
				Values([]piechart.PieChartLegendValues{piechart.PieChartLegendValuesPercent})).
			WithTarget(influxQL("A",
				`SELECT count("total_ms") FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY time($__interval), "reused" fill(0)`,
				"reused=$tag_reused"))).
		WithPanel(countBars("DNS lookups vs cache hits",
			"Calls per interval by dns tag: lookup (resolved now) or cached (resolver cache hit); calls on a reused connection have dns=none.").
			GridPos(l.next(24, 8)).
			WithTarget(influxQL("A",
				`SELECT count("total_ms") FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` AND "dns" != 'none' GROUP BY time($__interval), "scenario", "dns" fill(0)`,
				"$tag_scenario $tag_dns"))).
		WithPanel(bargauge.NewPanelBuilder().
			Title("Certificates: days left").
			Description("Days until the earliest notAfter of the certificate chain each target presented (cert_expires_in_days, last full TLS handshake in the range); red under 14 days.").
			Datasource(datasourceRef()).
			GridPos(l.next(12, 8)).
			Unit("d").
			Decimals(1).
			DisplayMode(common.BarGaugeDisplayModeBasic).
			Orientation(common.VizOrientationHorizontal).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
			Thresholds(dashboard.NewThresholdsConfigBuilder().
				Mode(dashboard.ThresholdsModeAbsolute).
				Steps([]dashboard.Threshold{{Value: nil, Color: "red"}, {Value: cog.ToPtr(14.0), Color: "green"}})).
			WithTarget(influxQL("A",
				`SELECT last("cert_expires_in_days") FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY "target"`,
				"$tag_target"))).
		WithPanel(newTable("HTTP and TLS versions per target",
			"Requests by http_version, and by tls_version and tls_resumed for those that opened a TLS connection (blank: reused connection or plain HTTP).").
			GridPos(l.next(12, 8)).
			Decimals(0).
			WithTarget(influxTable("A",
				`SELECT count("total_ms") AS "requests" FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY "target", "http_version", "tls_version", "tls_resumed"`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
			}})).
		Build()
}

// Service calls: points a service wrote through the reqwest-timing middleware
// (source=app, client=<service>, target=<CallTarget name or host>).
const appFilter = `"source" = 'app' AND "client" =~ /^$client$/ AND "target" =~ /^$target$/`

func appVariable(key, label string) *dashboard.QueryVariableBuilder {
	query := `SHOW TAG VALUES FROM "http_request", "http_error" WITH KEY = "` + key + `" WHERE "source" = 'app'`
	return tagVariable(key, label).
		Query(dashboard.StringOrMap{String: cog.ToPtr(query)}).
		Definition(query)
}

func appPhaseSeries(field, title, description string) *timeseries.PanelBuilder {
	return msSeries(title, description).
		WithTarget(influxQL("A",
			`SELECT mean("`+field+`") FROM "http_request" WHERE $timeFilter AND `+appFilter+
				` GROUP BY time($__interval), "client", "target" fill(null)`,
			"$tag_client → $tag_target"))
}

func servicesDashboard() (dashboard.Dashboard, error) {
	var l layout
	return dashboard.NewDashboardBuilder("Service calls").
		Uid("service-calls").
		Description("The outbound calls of instrumented services (reqwest-timing middleware, source=app) by target, with the same phases as the probes.").
		Tags([]string{"backend-call-timing"}).
		Refresh("5s").
		Time("now-15m", "now").
		Timezone("browser").
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		WithVariable(appVariable("client", "Service")).
		WithVariable(appVariable("target", "Target")).
		Link(dashboard.NewDashboardLinkBuilder("Backend call timing").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"backend-call-timing"}).
			AsDropdown(false).
			IncludeVars(false).
			KeepTime(true)).
		WithPanel(newTable("Mean phase times per service and target",
			"dns, connect and tls are averaged over the calls where that step happened; calls = calls with a response.").
			GridPos(l.next(24, 7)).
			Unit("ms").
			Decimals(1).
			WithTarget(influxTable("A",
				`SELECT mean("dns_ms") AS "dns", mean("connect_ms") AS "connect", mean("tls_ms") AS "tls", mean("ttfb_ms") AS "ttfb", mean("body_ms") AS "body", mean("total_ms") AS "total", count("total_ms") AS "calls" FROM "http_request" WHERE $timeFilter AND `+appFilter+
					` GROUP BY "client", "target"`)).
			WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
				"excludeByName": map[string]any{"Time": true},
			}})).
		WithPanel(appPhaseSeries("total_ms", "Total time by target", "From the call to the end of the body (or to the drop of an unread response).").GridPos(l.next(12, 8))).
		WithPanel(appPhaseSeries("ttfb_ms", "Time to first byte by target", "From the request handed to the connection to the response headers.").GridPos(l.next(12, 8))).
		WithPanel(appPhaseSeries("dns_ms", "DNS lookup", "Only calls that resolved a name.").GridPos(l.next(6, 8))).
		WithPanel(appPhaseSeries("connect_ms", "TCP connect", "Only calls that opened a connection.").GridPos(l.next(6, 8))).
		WithPanel(appPhaseSeries("tls_ms", "TLS handshake", "Only calls that opened a TLS connection.").GridPos(l.next(6, 8))).
		WithPanel(appPhaseSeries("body_ms", "Body", "From the response headers to the end of the body as the service read it.").GridPos(l.next(6, 8))).
		WithPanel(countBars("Calls by connection reuse",
			"Calls per interval: reused=false waited for a new connection.").
			GridPos(l.next(8, 8)).
			WithTarget(influxQL("A",
				`SELECT count("total_ms") FROM "http_request" WHERE $timeFilter AND `+appFilter+
					` GROUP BY time($__interval), "target", "reused" fill(0)`,
				"$tag_target reused=$tag_reused"))).
		WithPanel(countBars("Failed calls by error class",
			"http_error points of the services' calls: no response, a broken body, or a 4xx/5xx answer.").
			GridPos(l.next(8, 8)).
			WithTarget(influxQL("A",
				`SELECT sum("count") FROM "http_error" WHERE $timeFilter AND `+appFilter+
					` GROUP BY time($__interval), "target", "error_class" fill(0)`,
				"$tag_target $tag_error_class"))).
		WithPanel(countBars("Responses dropped before the body ended",
			"Calls whose service dropped the response unread or half read, or whose body failed (body_complete=false): their body and total stop there.").
			GridPos(l.next(8, 8)).
			WithTarget(influxQL("A",
				`SELECT count("total_ms") FROM "http_request" WHERE $timeFilter AND `+appFilter+
					` AND "body_complete" = false GROUP BY time($__interval), "target" fill(0)`,
				"$tag_target"))).
		Build()
}

// histogramBucketsMs are the upper bounds (le) of telegraf/telegraf.conf's histogram
// buckets, in order; the pipeline test checks that both lists agree.
var histogramBucketsMs = []string{"5", "10", "20", "30", "50", "75", "100", "150", "200", "300", "500", "750", "1000", "2000", "5000", "+Inf"}

// bucketTargets queries one bucket each, so the bars stand in numeric order (InfluxDB
// would return a GROUP BY "le" in text order: +Inf, 10, 100, ...).
func bucketTargets() []cog.Builder[variants.Dataquery] {
	targets := make([]cog.Builder[variants.Dataquery], 0, len(histogramBucketsMs))
	for i, le := range histogramBucketsMs {
		alias := "≤ " + le + " ms"
		if le == "+Inf" {
			alias = "> " + histogramBucketsMs[i-1] + " ms"
		}
		targets = append(targets, influxQL(string(rune('A'+i)),
			`SELECT sum("total_ms_bucket") FROM "http_request" WHERE $timeFilter AND `+reqFilter+
				` AND "le" = '`+le+`' GROUP BY time(30s) fill(none)`,
			alias))
	}
	return targets
}

func distributionDashboard() (dashboard.Dashboard, error) {
	var l layout
	return baseDashboard("probes-distribution", "Backend calls: distribution",
		"Distribution of call times: heatmap per target, Telegraf histogram buckets, percentiles.").
		WithPanel(heatmap.NewPanelBuilder().
			Title("Total time heatmap: $target").
			Description("Every call's total_ms, bucketed by Grafana.").
			Datasource(datasourceRef()).
			GridPos(l.next(12, 9)).
			Repeat("target").
			RepeatDirection(dashboard.PanelRepeatDirectionH).
			MaxPerRow(2).
			Calculate(true).
			Color(heatmap.NewHeatmapColorOptionsBuilder().
				Mode(heatmap.HeatmapColorModeScheme).
				Scheme("Oranges").
				Fill("dark-orange").
				Scale(heatmap.HeatmapColorScaleExponential).
				Exponent(0.5).
				Steps(64)).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit("ms")).
			CellGap(1).
			ShowLegend().
			Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true).ShowColorScale(true)).
			WithTarget(influxQL("A",
				`SELECT "total_ms" FROM "http_request" WHERE $timeFilter AND `+reqFilter,
				"total_ms"))).
		WithPanel(bargauge.NewPanelBuilder().
			Title("Histogram buckets, last period: $target").
			Description("Telegraf histogram aggregator: calls per total_ms bucket (upper bound le, in ms) in the latest 30 s period.").
			Datasource(datasourceRef()).
			GridPos(l.next(12, 9)).
			Repeat("target").
			RepeatDirection(dashboard.PanelRepeatDirectionH).
			MaxPerRow(2).
			Unit("short").
			Decimals(0).
			Min(0).
			DisplayMode(common.BarGaugeDisplayModeGradient).
			Orientation(common.VizOrientationHorizontal).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
			Targets(bucketTargets())).
		WithPanel(msSeries("Total time percentiles (p50, p90, p99)",
			"percentile() of total_ms per interval (at least 30 s) and scenario.").
			Interval("30s").
			GridPos(l.next(24, 10)).
			WithTarget(influxQL("A",
				`SELECT percentile("total_ms", 50) AS "p50", percentile("total_ms", 90) AS "p90", percentile("total_ms", 99) AS "p99" FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY time($__interval), "scenario" fill(null)`,
				"$tag_scenario $col"))).
		WithPanel(msSeries("Time to first byte percentiles (p50, p90, p99)",
			"percentile() of ttfb_ms per interval (at least 30 s) and scenario.").
			Interval("30s").
			GridPos(l.next(24, 10)).
			WithTarget(influxQL("A",
				`SELECT percentile("ttfb_ms", 50) AS "p50", percentile("ttfb_ms", 90) AS "p90", percentile("ttfb_ms", 99) AS "p99" FROM "http_request" WHERE $timeFilter AND `+reqFilter+
					` GROUP BY time($__interval), "scenario" fill(null)`,
				"$tag_scenario $col"))).
		Build()
}

// dashboardFiles maps each file under grafana/dashboards to its generator.
var dashboardFiles = []struct {
	file  string
	build func() (dashboard.Dashboard, error)
}{
	{"overview.json", overviewDashboard},
	{"phases.json", phasesDashboard},
	{"distribution.json", distributionDashboard},
	{"services.json", servicesDashboard},
}
