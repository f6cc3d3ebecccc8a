package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/alerting"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/expr"
)

// The alert rules are generated here with the SDK's alerting and expr packages into
// grafana/alerting/rules.json, a template: Grafana does not substitute environment variables
// inside a rule's queries and expressions, so `scripts/stack.sh up` renders it with the
// ALERT_* thresholds of .env into grafana/provisioning/alerting/rules.yaml (JSON is YAML).
// The notification file (contact point and policy) is provisioned as generated; Grafana
// substitutes ${ALERT_WEBHOOK_URL} in it.

const (
	alertFolder      = "Backend call timing alerts"
	alertGroup       = "backend-call-timing"
	alertInterval    = "30s"
	exprUID          = "__expr__"
	contactPointName = "backend-call-timing"
	webhookURLVar    = "ALERT_WEBHOOK_URL"
)

// alertQuery is one InfluxQL query of a rule, over the last rangeS seconds.
type alertQuery struct {
	query  string
	rangeS int64
}

// ruleSpec describes one rule: its queries (refIds A, B, ...) are each reduced with reducer
// (dropNN: nulls and NaN are dropped first), then condition, a math expression over the
// reduced refIds ($C, $D, ...), decides: non-zero is firing.
type ruleSpec struct {
	uid, title  string
	severity    string
	queries     []alertQuery
	reducer     expr.TypeReduceReducer
	condition   func(reduced []string) string
	noData      alerting.RuleNoDataState
	forDuration string
	// The panel that explains the alert, by dashboard uid and panel title.
	dashboardUID, panelTitle string
	summary, description     string
}

func refID(i int) string { return string(rune('A' + i)) }

func thresholdRef(env string) string { return "${" + env + "}" }

// alertRules is the rule group, in evaluation order.
func alertRules() []ruleSpec {
	return []ruleSpec{
		{
			uid: "bct-calls-failing", title: "Calls failing", severity: "critical",
			// Each round calls every target once, so rounds (all scenarios) = calls per target;
			// both are per location (probe host), matched on the location label. Probe points
			// only: a service's own calls (source=app) have no rounds to divide by.
			queries: []alertQuery{
				{`SELECT count("count") FROM "http_error" WHERE "source" != 'app' AND $timeFilter GROUP BY "target", "location"`, 300},
				{`SELECT count("total_ms") FROM "probe_round" WHERE $timeFilter GROUP BY "location"`, 300},
			},
			reducer: expr.TypeReduceReducerLast,
			condition: func(r []string) string {
				return "$" + r[0] + " / $" + r[1] + " > " + thresholdRef("ALERT_ERROR_RATIO")
			},
			noData: alerting.RuleNoDataStateOK, forDuration: "1m",
			dashboardUID: "probes-overview", panelTitle: "Errors by class",
			summary:     "Calls to {{ $labels.target }} from {{ $labels.location }} are failing",
			description: "{{ $labels.target }} from {{ $labels.location }}: {{ $values.C.Value }} failed calls in {{ $values.D.Value }} rounds of the last 5 min (every round calls each target once; threshold ALERT_ERROR_RATIO).",
		},
		{
			uid: "bct-calls-slow", title: "Calls slow", severity: "warning",
			queries: []alertQuery{
				{`SELECT percentile("total_ms", 95) FROM "http_request" WHERE "source" != 'app' AND $timeFilter GROUP BY "target", "location"`, 300},
			},
			reducer: expr.TypeReduceReducerLast,
			condition: func(r []string) string {
				return "$" + r[0] + " > " + thresholdRef("ALERT_P95_MS")
			},
			noData: alerting.RuleNoDataStateOK, forDuration: "1m",
			dashboardUID: "probes-distribution", panelTitle: "Total time percentiles (p50, p90, p99)",
			summary:     "Calls to {{ $labels.target }} from {{ $labels.location }} are slow",
			description: "{{ $labels.target }} from {{ $labels.location }}: p95 of total_ms over the last 5 min is {{ humanize $values.B.Value }} ms (threshold ALERT_P95_MS).",
		},
		certRule("bct-cert-expiring", "Certificate expiring", "warning", "ALERT_CERT_WARNING_DAYS"),
		certRule("bct-cert-expiring-critical", "Certificate expiring soon", "critical", "ALERT_CERT_CRITICAL_DAYS"),
		{
			uid: "bct-probe-silent", title: "Probe silent", severity: "critical",
			// Rounds in the last four 30 s buckets (about 2 min); fill(0) keeps a scenario
			// that stopped in the result with 0, as long as it reported in the last hour.
			// No series at all (every probe or the pipeline down) is NoData: Alerting.
			queries: []alertQuery{
				{`SELECT moving_average(count("total_ms"), 4) FROM "probe_round" WHERE $timeFilter GROUP BY time(30s), "scenario", "location" fill(0)`, 3600},
			},
			reducer: expr.TypeReduceReducerLast,
			condition: func(r []string) string {
				return "$" + r[0] + " <= 0"
			},
			noData: alerting.RuleNoDataStateAlerting, forDuration: "0s",
			dashboardUID: "probes-overview", panelTitle: "Round time by scenario",
			summary:     "Probe {{ $labels.scenario }} at {{ $labels.location }} is silent",
			description: "No probe_round from {{ $labels.scenario }} at {{ $labels.location }} for about 2 min: the probe stopped, or points no longer reach InfluxDB. With no scenario at all the pipeline is down.",
		},
		{
			uid: "bct-telegraf-dropped", title: "Metrics lost in Telegraf", severity: "warning",
			queries: []alertQuery{
				{`SELECT spread("metrics_dropped") FROM "internal_write" WHERE $timeFilter GROUP BY "output"`, 600},
			},
			reducer: expr.TypeReduceReducerLast,
			condition: func(r []string) string {
				return "$" + r[0] + " > 0"
			},
			noData: alerting.RuleNoDataStateOK, forDuration: "0s",
			dashboardUID: "probes-overview", panelTitle: "Telegraf output buffer and drops",
			summary:     "Telegraf output {{ $labels.output }} dropped metrics",
			description: "Telegraf's {{ $labels.output }} output dropped {{ $values.B.Value }} metrics in the last 10 min (internal_write metrics_dropped increased): its buffer overflowed while InfluxDB was slow or unreachable.",
		},
		{
			uid: "bct-probe-sink-dropped", title: "Metrics lost in a probe", severity: "warning",
			queries: []alertQuery{
				{`SELECT spread("dropped") FROM "probe_sink" WHERE $timeFilter GROUP BY "scenario", "location"`, 600},
			},
			reducer: expr.TypeReduceReducerLast,
			condition: func(r []string) string {
				return "$" + r[0] + " > 0"
			},
			noData: alerting.RuleNoDataStateOK, forDuration: "0s",
			dashboardUID: "probes-overview", panelTitle: "Probe sinks",
			summary:     "Probe {{ $labels.scenario }} at {{ $labels.location }} dropped points",
			description: "Probe {{ $labels.scenario }} at {{ $labels.location }} dropped {{ $values.B.Value }} points in the last 10 min (probe_sink dropped increased): its sink queue was full or the sink was down.",
		},
	}
}

func certRule(uid, title, severity, env string) ruleSpec {
	return ruleSpec{
		uid: uid, title: title, severity: severity,
		queries: []alertQuery{
			{`SELECT min("cert_expires_in_days") FROM "http_request" WHERE $timeFilter GROUP BY "target"`, 600},
		},
		reducer: expr.TypeReduceReducerLast,
		condition: func(r []string) string {
			return "$" + r[0] + " < " + thresholdRef(env)
		},
		noData: alerting.RuleNoDataStateOK, forDuration: "0s",
		dashboardUID: "probes-phases", panelTitle: "Certificates: days left",
		summary:     "The certificate of {{ $labels.target }} expires soon",
		description: "{{ $labels.target }}: the server certificate expires in {{ humanize $values.B.Value }} days (threshold " + env + ").",
	}
}

func exprRef() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr(exprUID), Uid: cog.ToPtr(exprUID)}
}

// buildRuleData returns the rule's queries and expressions and the refId of its condition.
func buildRuleData(s ruleSpec) ([]alerting.Query, string, error) {
	var data []alerting.Query
	var reduced []string
	n := len(s.queries)
	for i, q := range s.queries {
		ref := refID(i)
		b := influxQL(ref, q.query, "")
		aq, err := alerting.NewQueryBuilder(ref).
			DatasourceUid(datasourceUID).
			RelativeTimeRange(alerting.Duration(q.rangeS), 0).
			Model(b).
			Build()
		if err != nil {
			return nil, "", err
		}
		data = append(data, aq)
	}
	for i := range s.queries {
		ref := refID(n + i)
		reduced = append(reduced, ref)
		red := expr.NewExprBuilder().TypeReduce(expr.NewTypeReduceBuilder().
			RefId(ref).
			Datasource(exprRef()).
			Expression(refID(i)).
			Reducer(s.reducer).
			Settings(expr.NewExprTypeReduceSettingsBuilder().Mode(expr.ExprTypeReduceSettingsModeDropNN)))
		aq, err := alerting.NewQueryBuilder(ref).DatasourceUid(exprUID).Model(red).Build()
		if err != nil {
			return nil, "", err
		}
		data = append(data, aq)
	}
	cond := refID(2 * n)
	math := expr.NewExprBuilder().TypeMath(expr.NewTypeMathBuilder().
		RefId(cond).
		Datasource(exprRef()).
		Expression(s.condition(reduced)))
	aq, err := alerting.NewQueryBuilder(cond).DatasourceUid(exprUID).Model(math).Build()
	if err != nil {
		return nil, "", err
	}
	return append(data, aq), cond, nil
}

// Provisioning file format of Grafana alerting (apiVersion 1). Q is alerting.Query when
// writing and json.RawMessage when decoding (each then decoded strictly by the SDK).
type alertRulesFile[Q any] struct {
	APIVersion int                 `json:"apiVersion"`
	Groups     []alertGroupFile[Q] `json:"groups"`
}

type alertGroupFile[Q any] struct {
	OrgID    int64              `json:"orgId"`
	Name     string             `json:"name"`
	Folder   string             `json:"folder"`
	Interval string             `json:"interval"`
	Rules    []alertRuleFile[Q] `json:"rules"`
}

type alertRuleFile[Q any] struct {
	UID          string                    `json:"uid"`
	Title        string                    `json:"title"`
	Condition    string                    `json:"condition"`
	Data         []Q                       `json:"data"`
	DashboardUID string                    `json:"dashboardUid"`
	PanelID      int64                     `json:"panelId"`
	NoDataState  alerting.RuleNoDataState  `json:"noDataState"`
	ExecErrState alerting.RuleExecErrState `json:"execErrState"`
	For          string                    `json:"for"`
	Annotations  map[string]string         `json:"annotations"`
	Labels       map[string]string         `json:"labels"`
	IsPaused     bool                      `json:"isPaused"`
}

// panelIDs maps "dashboardUid/panel title" to the panel id, from the generated dashboards.
func panelIDs() (map[string]int64, error) {
	ids := map[string]int64{}
	for _, df := range dashboardFiles {
		d, err := df.build()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", df.file, err)
		}
		numberPanels(&d)
		for _, p := range allPanels(d) {
			if d.Uid != nil && p.Title != nil && p.Id != nil {
				ids[*d.Uid+"/"+*p.Title] = int64(*p.Id)
			}
		}
	}
	return ids, nil
}

func buildAlertRules() (alertRulesFile[alerting.Query], error) {
	ids, err := panelIDs()
	if err != nil {
		return alertRulesFile[alerting.Query]{}, err
	}
	group := alertGroupFile[alerting.Query]{OrgID: 1, Name: alertGroup, Folder: alertFolder, Interval: alertInterval}
	for _, s := range alertRules() {
		data, cond, err := buildRuleData(s)
		if err != nil {
			return alertRulesFile[alerting.Query]{}, fmt.Errorf("%s: %w", s.uid, err)
		}
		panel, ok := ids[s.dashboardUID+"/"+s.panelTitle]
		if !ok {
			return alertRulesFile[alerting.Query]{}, fmt.Errorf("%s: no panel %q on dashboard %s", s.uid, s.panelTitle, s.dashboardUID)
		}
		group.Rules = append(group.Rules, alertRuleFile[alerting.Query]{
			UID: s.uid, Title: s.title, Condition: cond, Data: data,
			DashboardUID: s.dashboardUID, PanelID: panel,
			NoDataState: s.noData, ExecErrState: alerting.RuleExecErrStateError,
			For: s.forDuration,
			Annotations: map[string]string{
				"summary":     s.summary,
				"description": s.description,
			},
			Labels: map[string]string{"severity": s.severity},
		})
	}
	return alertRulesFile[alerting.Query]{APIVersion: 1, Groups: []alertGroupFile[alerting.Query]{group}}, nil
}

func renderAlertRules() ([]byte, error) {
	f, err := buildAlertRules()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	// The SDK's expression models escape <, > and & themselves; JSON needs no escape there.
	out := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(buf.String())
	return []byte(out), nil
}

// Notification provisioning: one webhook contact point and the root policy sending to it.
type notificationsFile struct {
	APIVersion    int                `yaml:"apiVersion"`
	ContactPoints []contactPointFile `yaml:"contactPoints"`
	Policies      []policyFile       `yaml:"policies"`
}

type contactPointFile struct {
	OrgID     int64            `yaml:"orgId"`
	Name      string           `yaml:"name"`
	Receivers []map[string]any `yaml:"receivers"`
}

type policyFile struct {
	OrgID          int64    `yaml:"orgId"`
	Receiver       string   `yaml:"receiver"`
	GroupBy        []string `yaml:"group_by"`
	GroupWait      string   `yaml:"group_wait"`
	GroupInterval  string   `yaml:"group_interval"`
	RepeatInterval string   `yaml:"repeat_interval"`
}

func buildNotifications() (notificationsFile, error) {
	cp, err := alerting.NewContactPointBuilder().
		Uid("backend-call-timing-webhook").
		Type(alerting.ContactPointTypeWebhook).
		Settings(map[string]any{"url": "${" + webhookURLVar + "}", "httpMethod": "POST"}).
		DisableResolveMessage(false).
		Build()
	if err != nil {
		return notificationsFile{}, err
	}
	receiver := map[string]any{
		"uid": *cp.Uid, "type": string(cp.Type), "settings": cp.Settings,
		"disableResolveMessage": *cp.DisableResolveMessage,
	}
	policy, err := alerting.NewNotificationPolicyBuilder().
		Receiver(contactPointName).
		GroupBy([]string{"grafana_folder", "alertname", "location", "target", "scenario"}).
		GroupWait("30s").
		GroupInterval("1m").
		RepeatInterval("4h").
		Build()
	if err != nil {
		return notificationsFile{}, err
	}
	return notificationsFile{
		APIVersion:    1,
		ContactPoints: []contactPointFile{{OrgID: 1, Name: contactPointName, Receivers: []map[string]any{receiver}}},
		Policies: []policyFile{{
			OrgID: 1, Receiver: *policy.Receiver, GroupBy: policy.GroupBy,
			GroupWait: *policy.GroupWait, GroupInterval: *policy.GroupInterval, RepeatInterval: *policy.RepeatInterval,
		}},
	}, nil
}
