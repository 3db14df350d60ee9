// Command gen regenerates the Go-decided test vectors in the parent directory:
//
//	cd crates/switchyard-core/tests/vectors/gen && go run . ..
//
// go_parse_float.jsonl: strconv.ParseFloat(s, 64) for hand-picked and random spellings.
// go_parse_datetime.jsonl: Flipt v2's tryParseDateTime (internal/server/evaluation/evaluation.go):
// time.Parse(time.RFC3339, v), else time.Parse(time.DateOnly, v), in UTC.
// go_attachment.jsonl: a variant attachment as Flipt v2 stores it (internal/storage/fs/snapshot.go):
// decoded by yaml.v3 (.yaml files) or encoding/json (.json files), then serialised once with
// structpb.NewValue(v).MarshalJSON() (evaluation responses, OFREP metadata, snapshot distributions)
// and once with json.Marshal(v) (the client snapshot's defaultVariant.attachment).
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"gopkg.in/yaml.v3"
)

var floatInputs = []string{
	"1_8", "1__8", "_18", "18_", "1_8.5", "1.5_5", "1_8e1_0", "1e1_0", "1_e5", "1e_10", "1e1_", "1_000",
	"1_000.000_1", "1._5", "1_.5", "+_1", "-1_0", "_", "0_18", "0_1_8", "0_x1p0", "1_8i",
	"0x1_8p0", "0x_18p0", "0x18_p0", "0x1p-1_0", "0x1p1_0", "0x1_.8p0", "0x1._8p0", "0x_p0", "0x__1p0",
	"0b101", "0o17", "0b1_0", "0o1_7", "0B1", "0O7",
	"0x18", "0x1p4", "0X1P4", "0x1.8p1", "0x.8p1", "0x1.p1", "0x_1p0", "+0x1p0", "-0x1p0", "0x", "0xp1",
	"0x1p", "0x1p+", "0x1P-2", "0xABCp0", "0xabc.defp-3", "0x1.fffffffffffffp1023", "0x1p1024",
	"0x1p-1074", "0x1p-1075", "0x1.8p-1074", "0x1.0000000000000fp0", "0x1.00000000000008p0",
	"0x1.00000000000018p0", "0x1.000000000000080000001p0", "0x123456789abcdef01p0", "0x0p0", "-0x0p0",
	"0x.p1", "0x1.2.3p0", "0x1e", "0x1.8",
	"1e", "1e+", "1e-", ".", "+.", "-.", ".e1", "e1", "E1", "1e5e5", "1ee5", "1.e5", ".5e-1",
	"inf", "Inf", "INF", "+inf", "-inf", "-Infinity", "+Infinity", "iNfInItY", "infinit", "infinityy",
	"infx", "in", "i", "+", "-", "nan", "NaN", "NAN", "nAn", "+nan", "-nan", "nanx", "na",
	"1e308", "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e309",
	"-1e309", "1e-400", "4.9e-324", "2.5e-324", "2.4e-324", "2.2250738585072011e-308",
	"1e1000000000000", "0e1000000000000", "0.000000000000000000000000000000000000000001e42",
	"007", "-0", "+0", "0", "00", "-007.500", "+5", ".5", "5.", "1.5e3", "1E3", "1e+3", "1e-3", "1E-3",
	"12345678901234567890", "123456789012345678901234567890", "9007199254740993", "9_007_199_254_740_993",
	"0.1", "0.2", "0.30000000000000004", "3.14159265358979323846264338327950288",
	"18", "18.0", "18.000000000000001", "17.999999999999999", "2147483647", "-2147483648",
	" 1", "1 ", "\t1", "1\n", "", "++1", "+-1", "-+1", "--1", "1.2.3", "1,5", "1_8,5", "١٢", "১", "１",
	"0x1p0 ", "1e1\u0000", "Infinity\u00a0",
}

func parseFloatVectors() []map[string]string {
	inputs := append([]string{}, floatInputs...)
	// Random spellings over the characters ParseFloat treats specially.
	const alphabet = "0123456789_.eE+-xXpPaAbBfFiInNtTyYoO "
	r := rand.New(rand.NewSource(11))
	for len(inputs) < len(floatInputs)+3000 {
		n := 1 + r.Intn(9)
		b := make([]byte, n)
		for i := range b {
			// Bias towards digits and underscores so that many inputs are valid.
			switch k := r.Intn(10); {
			case k < 5:
				b[i] = byte('0' + r.Intn(10))
			case k < 7:
				b[i] = '_'
			default:
				b[i] = alphabet[r.Intn(len(alphabet))]
			}
		}
		inputs = append(inputs, string(b))
	}
	out := make([]map[string]string, 0, len(inputs))
	for _, s := range inputs {
		f, err := strconv.ParseFloat(s, 64)
		v := map[string]string{"s": s}
		switch {
		case err != nil && err.(*strconv.NumError).Err == strconv.ErrRange:
			v["r"] = "range"
		case err != nil:
			v["r"] = "syntax"
		case math.IsNaN(f):
			v["r"] = "nan"
		default:
			v["r"] = fmt.Sprintf("%016x", math.Float64bits(f))
		}
		out = append(out, v)
	}
	return out
}

var datetimeInputs = []string{
	"2026-01-02T03:04:05Z", "2026-01-02T03:04:05z", "2026-01-02t03:04:05Z", "2026-01-02 03:04:05Z",
	"2026-01-02T03:04:05+00:00", "2026-01-02T03:04:05-00:00", "2026-01-02T03:04:05+05:30",
	"2026-01-02T03:04:05-09:45", "2026-01-02T03:04:05+23:59", "2026-01-02T03:04:05+24:00",
	"2026-01-02T03:04:05+25:00", "2026-01-02T03:04:05+05:60", "2026-01-02T03:04:05+0530",
	"2026-01-02T03:04:05+05", "2026-01-02T03:04:05", "2026-01-02T3:04:05Z", "2026-01-02T03:4:05Z",
	"2026-01-02T03:04:5Z", "2026-01-02T24:00:00Z", "2026-01-02T23:59:60Z", "2026-01-02T23:60:00Z",
	"2026-01-02T03:04:05.Z", "2026-01-02T03:04:05.1Z", "2026-01-02T03:04:05.123456789Z",
	"2026-01-02T03:04:05.1234567891Z", "2026-01-02T03:04:05,5Z", "2026-01-02T03:04:05.5+01:00",
	"2024-02-29T00:00:00Z", "2023-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
	"2026-00-01T00:00:00Z", "2026-01-00T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
	"1969-12-31T23:59:59.999999999Z", "1600-01-01T00:00:00Z", "2026-1-02T03:04:05Z", "26-01-02T03:04:05Z",
	"+2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z ", " 2026-01-02T03:04:05Z", "2026-01-02T03:04:05ZZ",
	"2026-01-02", "2026-1-2", "2026-01-2", "2024-02-29", "2023-02-29", "2026-02-30", "0000-01-01",
	"2026-01-02Z", "2026-01-02 ", "2026/01/02", "20260102", "", "now", "2026-01-02T", "2026-01-02T03:04Z",
}

func datetimeVectors() []map[string]string {
	inputs := append([]string{}, datetimeInputs...)
	bases := []string{"2026-01-02T03:04:05Z", "2026-01-02T03:04:05.123+05:30", "2024-02-29", "1999-12-31T23:59:59-08:00"}
	const alphabet = "0123456789:-+TZtz., _"
	r := rand.New(rand.NewSource(13))
	for len(inputs) < len(datetimeInputs)+2000 {
		b := []byte(bases[r.Intn(len(bases))])
		for k := 1 + r.Intn(2); k > 0; k-- {
			i := r.Intn(len(b))
			switch r.Intn(3) {
			case 0:
				b[i] = alphabet[r.Intn(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[r.Intn(len(alphabet))]}, b[i:]...)...)
			}
			if len(b) == 0 {
				break
			}
		}
		inputs = append(inputs, string(b))
	}
	out := make([]map[string]string, 0, len(inputs))
	for _, s := range inputs {
		v := map[string]string{"s": s}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t, err = time.Parse(time.DateOnly, s)
		}
		if err != nil {
			v["r"] = "error"
		} else {
			t = t.UTC()
			v["r"] = fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
		}
		out = append(out, v)
	}
	return out
}

var yamlAttachments = []string{
	`{b: 1, a: 2}`,
	`{z: {y: 1.0, x: [3, 2.5, 1e3]}, a: true, m: null}`,
	`{big: 12345678901234567890}`,
	`{big: 123456789012345678901234567890}`,
	`{i64: 9223372036854775807, neg: -9223372036854775808, past: 9223372036854775808}`,
	`{f: 1.0, g: 0.1, h: 1e21, i: 1e20, j: 0.000001, k: 0.0000001, l: -0.0, m: 1.5e-7, n: 123456789.125}`,
	`{hex: 0x1F, oct: 0o17, under: 1_000, plus: +5, lead: 007}`,
	`{s: "<a href=\"x\">&amp;</a>", u: "é ü 中 😀", c: "tab\tnl\ncr\r\u0001\u001f\u007f", ls: "\u2028\u2029"}`,
	`{quote: "say \"hi\"", back: 'a\b', slash: "a/b"}`,
	`[1, "two", {b: 2, a: 1}, [], {}]`,
	`{"": 1, "A": 2, "a": 3, "_": 4, "0": 5, "é": 6, "~": 7}`,
	`{date: 2024-01-02}`,
	`{ts: 2024-01-02T03:04:05Z}`,
	`{yes: yes, no: no, on: on, tilde: ~, empty: , quoted: "1", t: True, f: FALSE}`,
	`{c: "\b\f\u0000\u001b\u007f\u0080"}`,
	`{oct: 010, bin: 0b101, neghex: -0x1F, under: 1_000, uf: 1_0.5, exp: 1E3, dot: .5, plusf: +1.5}`,
	`{inf: .inf}`,
	`{nested: {list: [{z: 1, y: [true, null]}, "x"], "k w": 'v'}}`,
	`{n: [0.1, 0.2, 0.30000000000000004, 100, 1e100, 5e-324, 1.7976931348623157e308]}`,
	`[]`,
	`{}`,
	`{z: 1.0, a: [1e21, "<&>", 1.5e-7], m: 5}`,
}

var jsonAttachments = []string{
	`{"b": 1, "a": 2}`,
	`{"big": 12345678901234567890, "f": 1.0, "e": 1e21, "s": "<&>", "n": null}`,
	`{"i": 9007199254740993, "small": 1e-7, "x": [1.5, true, "\u2028"]}`,
	`{"neg": -0}`,
	`[{"b": [], "a": {}}]`,
}

type doc struct {
	Attachment any `yaml:"attachment" json:"attachment"`
}

func attachmentVectors() ([]map[string]string, error) {
	var out []map[string]string
	add := func(format, src string, v any) error {
		pv, err := structpb.NewValue(v)
		if err != nil {
			// Flipt refuses the whole snapshot (e.g. yaml.v3 decodes an unquoted date as time.Time).
			out = append(out, map[string]string{"format": format, "src": src, "error": err.Error()})
			return nil
		}
		pj, err := pv.MarshalJSON()
		if err != nil {
			out = append(out, map[string]string{"format": format, "src": src, "error": err.Error()})
			return nil
		}
		// protojson may add a space after a comma (its output is deliberately unstable across
		// binaries); Flipt v2.11.0's binary answers compact JSON, so compact it.
		var compact bytes.Buffer
		if err := json.Compact(&compact, pj); err != nil {
			return err
		}
		jj, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		out = append(out, map[string]string{"format": format, "src": src, "structpb": compact.String(), "json": string(jj)})
		return nil
	}
	for _, src := range yamlAttachments {
		var d doc
		if err := yaml.Unmarshal([]byte("attachment: "+src), &d); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if err := add("yaml", src, d.Attachment); err != nil {
			return nil, err
		}
	}
	for _, src := range jsonAttachments {
		var d doc
		if err := json.Unmarshal([]byte(`{"attachment": `+src+`}`), &d); err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if err := add("json", src, d.Attachment); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func write(path, header string, rows []map[string]string) error {
	var b bytes.Buffer
	b.WriteString(header)
	for _, r := range rows {
		line, err := json.Marshal(r)
		if err != nil {
			return err
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func main() {
	dir := ".."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	if err := write(filepath.Join(dir, "go_parse_float.jsonl"),
		"# strconv.ParseFloat(s, 64) as decided by Go "+runtimeVersion()+" (generated by gen/main.go).\n"+
			"# r: the float64 bits in hex, or syntax / range (an error), or nan.\n",
		parseFloatVectors()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := write(filepath.Join(dir, "go_parse_datetime.jsonl"),
		"# Flipt v2's tryParseDateTime: time.Parse(time.RFC3339, s), else time.Parse(time.DateOnly, s), in UTC,\n"+
			"# as decided by Go "+runtimeVersion()+" (generated by gen/main.go). r: unix seconds.nanoseconds, or error.\n",
		datetimeVectors()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	rows, err := attachmentVectors()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := write(filepath.Join(dir, "go_attachment.jsonl"),
		"# Flipt v2 attachment strings as decided by Go "+runtimeVersion()+" (generated by gen/main.go):\n"+
			"# structpb: structpb.NewValue(v).MarshalJSON(), compacted; json: json.Marshal(v); v decoded by\n"+
			"# yaml.v3 (format yaml) or encoding/json (format json) as internal/storage/fs/snapshot.go does.\n",
		rows); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
