package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// The SDK has no InfluxDB query type, so this one is registered with its runtime: panel
// targets of type "influxdb" then decode strictly (unknown keys are errors).

const influxType = "influxdb"

// InfluxQuery is a raw InfluxQL target of Grafana's InfluxDB datasource.
type InfluxQuery struct {
	RefId        string                `json:"refId"`
	Hide         *bool                 `json:"hide,omitempty"`
	Datasource   *common.DataSourceRef `json:"datasource,omitempty"`
	Query        string                `json:"query"`
	RawQuery     bool                  `json:"rawQuery"`
	ResultFormat string                `json:"resultFormat"`
	Alias        string                `json:"alias,omitempty"`
}

func (q InfluxQuery) ImplementsDataqueryVariant() {}

func (q InfluxQuery) DataqueryType() string { return influxType }

func (q InfluxQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(InfluxQuery)
	return ok && reflect.DeepEqual(q, o)
}

func (q InfluxQuery) Validate() error {
	var errs []error
	if q.RefId == "" {
		errs = append(errs, errors.New("refId is empty"))
	}
	if !q.RawQuery {
		errs = append(errs, errors.New("rawQuery must be true"))
	}
	if q.Query == "" {
		errs = append(errs, errors.New("query is empty"))
	}
	if q.ResultFormat != "time_series" && q.ResultFormat != "table" {
		errs = append(errs, fmt.Errorf("resultFormat %q is neither time_series nor table", q.ResultFormat))
	}
	return errors.Join(errs...)
}

func decodeInfluxQuery(raw []byte, strict bool) (variants.Dataquery, error) {
	var q InfluxQuery
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(&q); err != nil {
		return nil, err
	}
	return q, nil
}

func influxVariantConfig() variants.DataqueryConfig {
	return variants.DataqueryConfig{
		Identifier: influxType,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			return decodeInfluxQuery(raw, false)
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			return decodeInfluxQuery(raw, true)
		},
	}
}

// influxQueryBuilder builds an InfluxQuery for the SDK's panel builders.
type influxQueryBuilder struct{ q InfluxQuery }

var _ cog.Builder[variants.Dataquery] = (*influxQueryBuilder)(nil)

func (b *influxQueryBuilder) Build() (variants.Dataquery, error) {
	if err := b.q.Validate(); err != nil {
		return nil, cog.MakeBuildErrors("InfluxQuery", err)
	}
	return b.q, nil
}
