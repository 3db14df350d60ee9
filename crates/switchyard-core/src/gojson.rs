//! JSON written the way Flipt's Go code writes an attachment: keys sorted, compact, Go's number
//! formatting, and one of Go's two string escapings.
//!
//! Flipt v2 (`internal/storage/fs/snapshot.go`) stores a variant attachment twice:
//! `structpb.NewValue(v).MarshalJSON()` (protojson: every number a float64, only `"`, `\` and
//! control characters escaped) for evaluation responses, OFREP metadata and the client
//! snapshot's distributions, and `json.Marshal(v)` (encoding/json: integers as decoded, `<`, `>`,
//! `&`, U+2028 and U+2029 escaped too) for the client snapshot's `defaultVariant.attachment`.
//!
//! protojson adds a space after each comma in builds whose executable hashes to an odd seed
//! (`internal/detrand`); the strings here have none, like the Flipt v2.11.0 build compared.

use serde_json::Value;

/// Which Go encoder writes the JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GoEncoder {
    /// `structpb.NewValue(v).MarshalJSON()` (protojson).
    Structpb,
    /// `json.Marshal(v)` (encoding/json); `ints_as_floats` when the value was decoded by
    /// encoding/json (a `.json` file: every number is a float64), not by yaml.v3.
    EncodingJson { ints_as_floats: bool },
}

/// `v` as the Go encoder writes it.
pub(crate) fn marshal(v: &Value, enc: GoEncoder) -> String {
    let mut out = String::new();
    write_value(&mut out, v, enc);
    out
}

/// The object `map` as the Go encoder writes it (a `structpb.Struct`, for instance), without
/// copying it into a `Value`.
pub(crate) fn marshal_object(map: &serde_json::Map<String, Value>, enc: GoEncoder) -> String {
    let mut out = String::new();
    write_object(&mut out, map, enc);
    out
}

fn write_object(out: &mut String, map: &serde_json::Map<String, Value>, enc: GoEncoder) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push('{');
    for (i, (k, item)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, k, enc);
        out.push(':');
        write_value(out, item, enc);
    }
    out.push('}');
}

fn write_value(out: &mut String, v: &Value, enc: GoEncoder) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => write_number(out, n, enc),
        Value::String(s) => write_string(out, s, enc),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, enc);
            }
            out.push(']');
        }
        Value::Object(map) => write_object(out, map, enc),
    }
}

fn write_number(out: &mut String, n: &serde_json::Number, enc: GoEncoder) {
    let exact_ints = enc
        == GoEncoder::EncodingJson {
            ints_as_floats: false,
        };
    if exact_ints {
        if let Some(i) = n.as_i64() {
            out.push_str(&i.to_string());
            return;
        }
        if let Some(u) = n.as_u64() {
            out.push_str(&u.to_string());
            return;
        }
    }
    // Integers convert to float64 as Go's float64(i) does (round to nearest even).
    let f = n.as_f64().unwrap_or(0.0);
    push_go_float(out, f);
}

/// A finite float64 as encoding/json and protojson write it: `strconv.AppendFloat(f, 'f', -1, 64)`,
/// or `'e'` below 1e-6 and from 1e21 on, with a one-digit exponent written without the zero.
pub(crate) fn push_go_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push_str(if f.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Go's -1 precision does.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if f.is_sign_negative() {
        out.push('-');
    }
    let abs = f.abs();
    if !(1e-6..1e21).contains(&abs) {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        // Go writes `e-07`, then both encoders drop that zero; positive exponents are >= 21.
        out.push_str(&exp.unsigned_abs().to_string());
        return;
    }
    // Plain decimal notation with the shortest digits.
    let point = exp + 1; // digits before the decimal point
    if point <= 0 {
        out.push_str("0.");
        for _ in 0..-point {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let point = point as usize;
        if digits.len() <= point {
            out.push_str(&digits);
            for _ in digits.len()..point {
                out.push('0');
            }
        } else {
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

fn write_string(out: &mut String, s: &str, enc: GoEncoder) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let html = matches!(enc, GoEncoder::EncodingJson { .. });
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || html && matches!(c, '<' | '>' | '&') => {
                let b = c as u32 as u8;
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            '\u{2028}' if html => out.push_str("\\u2028"),
            '\u{2029}' if html => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn go(f: f64) -> String {
        let mut s = String::new();
        push_go_float(&mut s, f);
        s
    }

    #[test]
    fn floats_follow_go_append_float() {
        assert_eq!(go(1.0), "1");
        assert_eq!(go(12345678901234567890.0), "12345678901234567000");
        assert_eq!(go(1e20), "100000000000000000000");
        assert_eq!(go(1e21), "1e+21");
        assert_eq!(go(1.5e-7), "1.5e-7");
        assert_eq!(go(0.000001), "0.000001");
        assert_eq!(go(-0.0), "-0");
        assert_eq!(go(5e-324), "5e-324");
        assert_eq!(go(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(go(123456789.125), "123456789.125");
        assert_eq!(go(-2.5), "-2.5");
    }
}
