package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

const (
	wantRefresh = "5s"
	wantFrom    = "now-15m"
	wantTo      = "now"
)

var requiredVariables = []string{"scenario", "target"}

// A dashboard of services' own calls (source=app) filters on the service instead of the scenario.
var appRequiredVariables = []string{"client", "target"}

// Measurements whose queries must honour the scenario (and target) variables.
var (
	fromRe            = regexp.MustCompile(`FROM "([A-Za-z_]+)"`)
	requestMeasures   = map[string]bool{"http_request": true, "http_error": true}
	scenarioMeasures  = map[string]bool{"probe_round": true, "probe_sink": true}
	groupByTimeRe     = regexp.MustCompile(`GROUP BY time\(([^)]*)\)`)
	fixedIntervalRe   = regexp.MustCompile(`^[0-9]+[smh]$`)
	scenarioCondition = `"scenario" =~ /^$scenario$/`
	targetCondition   = `"target" =~ /^$target$/`
	appCondition      = `"source" = 'app' AND "client" =~ /^$client$/`
)

func dashboardFilesIn(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboards in %s", dir)
	}
	return files, nil
}

func checkDashboards(dir string, dsUIDs map[string]bool) []result {
	files, err := dashboardFilesIn(dir)
	if err != nil {
		return []result{{"dashboards: found", err}}
	}
	var res []result
	uids := map[string]string{}
	for _, path := range files {
		res = append(res, checkDashboardFile(path, dsUIDs, uids)...)
	}
	return res
}

// decodeDashboard decodes strictly (unknown keys, and each panel type's unknown options,
// are errors) and runs the SDK's Validate().
// checkDashboardFile checks one dashboard; uids collects the uids seen so far.
func checkDashboardFile(path string, dsUIDs map[string]bool, uids map[string]string) []result {
	base := filepath.Base(path)
	raw, err := os.ReadFile(path)
	if err != nil {
		return []result{{"dashboard " + base, err}}
	}
	d, err := decodeDashboard(raw)
	if err != nil {
		return []result{{"dashboard " + base + ": strict decode and Validate()", err}}
	}
	var errs []error
	if d.Uid == nil || *d.Uid == "" {
		errs = append(errs, errors.New("no fixed uid"))
	} else if other, dup := uids[*d.Uid]; dup {
		errs = append(errs, fmt.Errorf("uid %q also used by %s", *d.Uid, other))
	} else {
		uids[*d.Uid] = base
	}
	if bytes.Contains(raw, []byte("${DS_")) || bytes.Contains(raw, []byte("__inputs")) {
		errs = append(errs, errors.New("uses import-time datasource inputs (${DS_...}); reference the datasource by uid"))
	}
	errs = append(errs, checkEmptyOptions(raw)...)
	errs = append(errs, checkSettings(d)...)
	errs = append(errs, checkVariables(d, dsUIDs)...)
	errs = append(errs, checkPanels(d, dsUIDs)...)
	return []result{
		{"dashboard " + base + ": strict decode and Validate()", nil},
		{"dashboard " + base + ": uid, refresh, time, variables, datasources, queries", errors.Join(errs...)},
	}
}

func decodeDashboard(raw []byte) (dashboard.Dashboard, error) {
	var strict dashboard.Dashboard
	if err := sdkErr(strict.UnmarshalJSONStrict(raw)); err != nil {
		return strict, err
	}
	// Strict decoding drops panels that decode without error (the SDK returns an empty
	// cog.BuildErrors as a non-nil error), so the checks use a second, ordinary decoding.
	var d dashboard.Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		return d, err
	}
	if err := sdkErr(d.Validate()); err != nil {
		return d, err
	}
	return d, nil
}

// sdkErr turns the SDK's empty cog.BuildErrors (a non-nil interface) into nil.
func sdkErr(err error) error {
	var be cog.BuildErrors
	if errors.As(err, &be) && len(be) == 0 {
		return nil
	}
	return err
}

func checkSettings(d dashboard.Dashboard) []error {
	var errs []error
	if d.Refresh == nil || *d.Refresh != wantRefresh {
		errs = append(errs, fmt.Errorf("refresh must be %q", wantRefresh))
	}
	if d.Time == nil || d.Time.From != wantFrom || d.Time.To != wantTo {
		errs = append(errs, fmt.Errorf("time range must be %s to %s", wantFrom, wantTo))
	}
	return errs
}

func checkDatasourceRef(where string, uid, typ *string, dsUIDs map[string]bool) error {
	if uid == nil || *uid == "" {
		return fmt.Errorf("%s: datasource has no uid", where)
	}
	if !dsUIDs[*uid] {
		return fmt.Errorf("%s: datasource uid %q is not provisioned", where, *uid)
	}
	if typ == nil || *typ != influxType {
		return fmt.Errorf("%s: datasource type must be %q", where, influxType)
	}
	return nil
}

func checkVariables(d dashboard.Dashboard, dsUIDs map[string]bool) []error {
	var errs []error
	byName := map[string]dashboard.VariableModel{}
	for _, v := range d.Templating.List {
		byName[v.Name] = v
	}
	required := requiredVariables
	if _, ok := byName["client"]; ok {
		required = appRequiredVariables
	}
	for _, name := range required {
		v, ok := byName[name]
		if !ok {
			errs = append(errs, fmt.Errorf("variable %q is missing", name))
			continue
		}
		if v.Type != dashboard.VariableTypeQuery {
			errs = append(errs, fmt.Errorf("variable %q must be a query variable", name))
		}
		if v.Multi == nil || !*v.Multi || v.IncludeAll == nil || !*v.IncludeAll {
			errs = append(errs, fmt.Errorf("variable %q must be multi-value with All", name))
		}
		want := `SHOW TAG VALUES FROM "http_request", "http_error" WITH KEY = "` + name + `"`
		if v.Query == nil || v.Query.String == nil || !strings.HasPrefix(*v.Query.String, want) {
			errs = append(errs, fmt.Errorf("variable %q query must start with %s", name, want))
		}
		if v.Datasource == nil {
			errs = append(errs, fmt.Errorf("variable %q has no datasource", name))
		} else if err := checkDatasourceRef("variable "+name, v.Datasource.Uid, v.Datasource.Type, dsUIDs); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func allPanels(d dashboard.Dashboard) []dashboard.Panel {
	var out []dashboard.Panel
	for _, p := range d.Panels {
		if p.Panel != nil {
			out = append(out, *p.Panel)
		}
		if p.RowPanel != nil {
			out = append(out, p.RowPanel.Panels...)
		}
	}
	return out
}

func checkPanels(d dashboard.Dashboard, dsUIDs map[string]bool) []error {
	var errs []error
	panels := allPanels(d)
	if len(panels) == 0 {
		errs = append(errs, errors.New("no panels"))
	}
	for _, p := range panels {
		title := "panel"
		if p.Title != nil {
			title = fmt.Sprintf("panel %q", *p.Title)
		}
		if p.Datasource == nil {
			errs = append(errs, fmt.Errorf("%s: no datasource", title))
		} else if err := checkDatasourceRef(title, p.Datasource.Uid, p.Datasource.Type, dsUIDs); err != nil {
			errs = append(errs, err)
		}
		if len(p.Targets) == 0 {
			errs = append(errs, fmt.Errorf("%s: no targets", title))
		}
		for i, t := range p.Targets {
			where := fmt.Sprintf("%s target %d", title, i)
			q, ok := t.(InfluxQuery)
			if !ok {
				errs = append(errs, fmt.Errorf("%s: not an InfluxDB query (datasource type missing?)", where))
				continue
			}
			if q.Datasource == nil {
				errs = append(errs, fmt.Errorf("%s: no datasource", where))
			} else if err := checkDatasourceRef(where, q.Datasource.Uid, q.Datasource.Type, dsUIDs); err != nil {
				errs = append(errs, err)
			}
			if err := q.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
			}
			errs = append(errs, checkQuery(where, q.Query)...)
		}
	}
	return errs
}

// checkQuery applies the dashboard query conventions to one InfluxQL statement.
func checkQuery(where, query string) []error {
	var errs []error
	if !strings.Contains(query, "$timeFilter") {
		errs = append(errs, fmt.Errorf("%s: query lacks $timeFilter", where))
	}
	for _, m := range groupByTimeRe.FindAllStringSubmatch(query, -1) {
		if m[1] != "$__interval" && !fixedIntervalRe.MatchString(m[1]) {
			errs = append(errs, fmt.Errorf("%s: GROUP BY time(%s): use $__interval or a fixed duration", where, m[1]))
		}
	}
	for _, m := range fromRe.FindAllStringSubmatch(query, -1) {
		switch {
		case requestMeasures[m[1]]:
			probes := strings.Contains(query, scenarioCondition)
			apps := strings.Contains(query, appCondition)
			if !(probes || apps) || !strings.Contains(query, targetCondition) {
				errs = append(errs, fmt.Errorf("%s: query on %s must filter on $scenario (or source='app' and $client) and $target", where, m[1]))
			}
		case scenarioMeasures[m[1]]:
			if !strings.Contains(query, scenarioCondition) {
				errs = append(errs, fmt.Errorf("%s: query on %s must filter on $scenario", where, m[1]))
			}
		}
	}
	return errs
}

// checkHomeDashboard checks that Grafana's home dashboard path names a committed dashboard.
func checkHomeDashboard(composeFile, envFile, dashboardsDir string) result {
	name := "grafana: home dashboard file exists"
	project, err := loadCompose(composeFile, envFile)
	if err != nil {
		return result{name, err}
	}
	svc, ok := project.Services["grafana"]
	if !ok {
		return result{name, errors.New("no grafana service")}
	}
	home := svc.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if home == nil || !strings.HasPrefix(*home, dashboardsMount+"/") {
		return result{name, fmt.Errorf("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH must be a file under %s", dashboardsMount)}
	}
	if _, err := os.Stat(filepath.Join(dashboardsDir, strings.TrimPrefix(*home, dashboardsMount+"/"))); err != nil {
		return result{name, err}
	}
	return result{name, nil}
}

func renderDashboard(build func() (dashboard.Dashboard, error)) ([]byte, error) {
	d, err := build()
	if err != nil {
		return nil, err
	}
	numberPanels(&d)
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

func writeDashboards(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, df := range dashboardFiles {
		out, err := renderDashboard(df.build)
		if err != nil {
			return fmt.Errorf("%s: %w", df.file, err)
		}
		if err := os.WriteFile(filepath.Join(dir, df.file), out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func checkGenerated(dir string) result {
	name := "dashboards: committed JSON matches the generator (go run . --write-dashboards)"
	var errs []error
	for _, df := range dashboardFiles {
		want, err := renderDashboard(df.build)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", df.file, err))
			continue
		}
		got, err := os.ReadFile(filepath.Join(dir, df.file))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !bytes.Equal(got, want) {
			errs = append(errs, fmt.Errorf("%s differs from the generated one", df.file))
		}
	}
	return result{name, errors.Join(errs...)}
}

// checkEmptyOptions rejects empty strings in panel options and field config: the SDK's
// builders emit "" for enum settings left unset (tooltip mode, heatmap fill, ...).
func checkEmptyOptions(raw []byte) []error {
	var doc struct {
		Panels []map[string]any `json:"panels"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return []error{err}
	}
	var errs []error
	for i, p := range doc.Panels {
		for _, key := range []string{"options", "fieldConfig"} {
			for _, path := range emptyStrings(p[key], fmt.Sprintf("panels[%d].%s", i, key)) {
				errs = append(errs, fmt.Errorf("%s is an empty string", path))
			}
		}
	}
	return errs
}

func emptyStrings(v any, path string) []string {
	var out []string
	switch t := v.(type) {
	case string:
		if t == "" {
			out = append(out, path)
		}
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = append(out, emptyStrings(t[k], path+"."+k)...)
		}
	case []any:
		for i, e := range t {
			out = append(out, emptyStrings(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	}
	return out
}

// numberPanels gives the panels fixed ids in layout order.
func numberPanels(d *dashboard.Dashboard) {
	id := uint32(1)
	for _, p := range d.Panels {
		if p.Panel != nil {
			p.Panel.Id = cog.ToPtr(id)
			id++
		}
		if p.RowPanel != nil {
			p.RowPanel.Id = id
			id++
			for i := range p.RowPanel.Panels {
				p.RowPanel.Panels[i].Id = cog.ToPtr(id)
				id++
			}
		}
	}
}
