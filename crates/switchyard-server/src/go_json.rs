//! How Flipt's gateway reads a JSON request body, up to the typed decoding: Go's
//! `encoding/json` `Decoder` reads the first JSON value (anything after it is left unread) and
//! reports syntax errors in Go's words (`invalid character 'x' looking for beginning of value`,
//! `unexpected EOF`). A state machine written after Go's `encoding/json/scanner.go`; only the
//! extent of the first value and the error text are kept.

/// What the scanner is inside of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parse {
    ObjectKey,
    ObjectValue,
    ArrayValue,
}

/// The scanner's state: which byte it expects next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    BeginValue,
    BeginValueOrEmpty,
    BeginStringOrEmpty,
    BeginString,
    EndValue,
    EndTop,
    InString,
    InStringEsc,
    InStringEscU(u8),
    Neg,
    One,
    Zero,
    Dot,
    Dot0,
    E,
    ESign,
    E0,
    /// Inside `true`, `false` or `null`: the literal and how many bytes of it were read.
    Literal(&'static [u8], usize),
}

/// Go's nesting limit (`maxNestingDepth`).
const MAX_DEPTH: usize = 10_000;

/// The first JSON value of `body` as Go's `json.Decoder.Decode` reads it: `Ok(None)` when the
/// body holds only whitespace (Go's `io.EOF`, which the gateway takes as an empty request),
/// `Ok(Some(range))` for the value's bytes, or Go's error text.
pub(crate) fn first_value(body: &[u8]) -> Result<Option<std::ops::Range<usize>>, String> {
    let mut stack: Vec<Parse> = Vec::new();
    let mut step = Step::BeginValue;
    let mut start = None;
    for (i, &c) in body.iter().enumerate() {
        if start.is_none() && !is_space(c) {
            start = Some(i);
        }
        match scan(&mut step, &mut stack, c)? {
            // the value ended before this byte
            Op::End => return Ok(start.map(|s| s..i)),
            // an object or array closed the top level: the value ends with this byte
            Op::Closed if stack.is_empty() => return Ok(start.map(|s| s..i + 1)),
            _ => {}
        }
    }
    // At the end of input Go feeds one space: a finished number ends there; anything else
    // unfinished is `unexpected EOF` (an error that space causes is not reported).
    match start {
        None => Ok(None),
        Some(s) => match scan(&mut step, &mut stack, b' ') {
            Ok(Op::End) => Ok(Some(s..body.len())),
            _ => Err("unexpected EOF".to_string()),
        },
    }
}

/// What one byte did.
#[derive(PartialEq, Eq)]
enum Op {
    Continue,
    /// An object or array closed.
    Closed,
    /// The top-level value ended before this byte.
    End,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

/// Go's `invalid character … <context>`.
fn error(c: u8, context: &str) -> String {
    format!("invalid character {} {context}", quote_char(c))
}

/// Go's `quoteChar`: the byte read as the code point of the same value, as `strconv.Quote`
/// writes it, between single quotes.
fn quote_char(c: u8) -> String {
    let inner = match c {
        b'\'' => "\\'".to_string(),
        b'"' => "\"".to_string(),
        b'\\' => "\\\\".to_string(),
        0x07 => "\\a".to_string(),
        0x08 => "\\b".to_string(),
        0x0c => "\\f".to_string(),
        b'\n' => "\\n".to_string(),
        b'\r' => "\\r".to_string(),
        b'\t' => "\\t".to_string(),
        0x0b => "\\v".to_string(),
        0x00..=0x1f | 0x7f => format!("\\x{c:02x}"),
        // C1 controls, the no-break space and the soft hyphen are not printable in Go
        0x80..=0xa0 | 0xad => format!("\\u{c:04x}"),
        _ => char::from(c).to_string(),
    };
    format!("'{inner}'")
}

fn push(stack: &mut Vec<Parse>, c: u8, p: Parse) -> Result<(), String> {
    stack.push(p);
    if stack.len() > MAX_DEPTH {
        return Err(error(c, "exceeded max depth"));
    }
    Ok(())
}

/// One step of the state machine.
fn scan(step: &mut Step, stack: &mut Vec<Parse>, c: u8) -> Result<Op, String> {
    match *step {
        Step::BeginValueOrEmpty => {
            if is_space(c) {
                return Ok(Op::Continue);
            }
            if c == b']' {
                return end_value(step, stack, c);
            }
            begin_value(step, stack, c)
        }
        Step::BeginValue => begin_value(step, stack, c),
        Step::BeginStringOrEmpty => {
            if is_space(c) {
                return Ok(Op::Continue);
            }
            if c == b'}' {
                if let Some(top) = stack.last_mut() {
                    *top = Parse::ObjectValue;
                }
                return end_value(step, stack, c);
            }
            begin_string(step, c)
        }
        Step::BeginString => begin_string(step, c),
        Step::EndValue => end_value(step, stack, c),
        Step::EndTop => Ok(Op::End),
        Step::InString => {
            match c {
                b'"' => *step = Step::EndValue,
                b'\\' => *step = Step::InStringEsc,
                0x00..=0x1f => return Err(error(c, "in string literal")),
                _ => {}
            }
            Ok(Op::Continue)
        }
        Step::InStringEsc => {
            match c {
                b'b' | b'f' | b'n' | b'r' | b't' | b'\\' | b'/' | b'"' => *step = Step::InString,
                b'u' => *step = Step::InStringEscU(0),
                _ => return Err(error(c, "in string escape code")),
            }
            Ok(Op::Continue)
        }
        Step::InStringEscU(n) => {
            if !is_hex(c) {
                return Err(error(c, "in \\u hexadecimal character escape"));
            }
            *step = if n == 3 {
                Step::InString
            } else {
                Step::InStringEscU(n + 1)
            };
            Ok(Op::Continue)
        }
        Step::Neg => {
            match c {
                b'0' => *step = Step::Zero,
                b'1'..=b'9' => *step = Step::One,
                _ => return Err(error(c, "in numeric literal")),
            }
            Ok(Op::Continue)
        }
        Step::One if c.is_ascii_digit() => Ok(Op::Continue),
        Step::One | Step::Zero => match c {
            b'.' => {
                *step = Step::Dot;
                Ok(Op::Continue)
            }
            b'e' | b'E' => {
                *step = Step::E;
                Ok(Op::Continue)
            }
            _ => end_value(step, stack, c),
        },
        Step::Dot => {
            if !c.is_ascii_digit() {
                return Err(error(c, "after decimal point in numeric literal"));
            }
            *step = Step::Dot0;
            Ok(Op::Continue)
        }
        Step::Dot0 => match c {
            b'0'..=b'9' => Ok(Op::Continue),
            b'e' | b'E' => {
                *step = Step::E;
                Ok(Op::Continue)
            }
            _ => end_value(step, stack, c),
        },
        Step::E if c == b'+' || c == b'-' => {
            *step = Step::ESign;
            Ok(Op::Continue)
        }
        Step::E | Step::ESign => {
            if !c.is_ascii_digit() {
                return Err(error(c, "in exponent of numeric literal"));
            }
            *step = Step::E0;
            Ok(Op::Continue)
        }
        Step::E0 if c.is_ascii_digit() => Ok(Op::Continue),
        Step::E0 => end_value(step, stack, c),
        Step::Literal(word, read) => {
            let want = word[read];
            if c != want {
                let name = match word[0] {
                    b't' => "true",
                    b'f' => "false",
                    _ => "null",
                };
                return Err(error(
                    c,
                    &format!("in literal {name} (expecting '{}')", char::from(want)),
                ));
            }
            *step = if read + 1 == word.len() {
                Step::EndValue
            } else {
                Step::Literal(word, read + 1)
            };
            Ok(Op::Continue)
        }
    }
}

fn begin_value(step: &mut Step, stack: &mut Vec<Parse>, c: u8) -> Result<Op, String> {
    if is_space(c) {
        return Ok(Op::Continue);
    }
    *step = match c {
        b'{' => {
            push(stack, c, Parse::ObjectKey)?;
            Step::BeginStringOrEmpty
        }
        b'[' => {
            push(stack, c, Parse::ArrayValue)?;
            Step::BeginValueOrEmpty
        }
        b'"' => Step::InString,
        b'-' => Step::Neg,
        b'0' => Step::Zero,
        b'1'..=b'9' => Step::One,
        b't' => Step::Literal(b"true", 1),
        b'f' => Step::Literal(b"false", 1),
        b'n' => Step::Literal(b"null", 1),
        _ => return Err(error(c, "looking for beginning of value")),
    };
    Ok(Op::Continue)
}

fn begin_string(step: &mut Step, c: u8) -> Result<Op, String> {
    if is_space(c) {
        return Ok(Op::Continue);
    }
    if c == b'"' {
        *step = Step::InString;
        return Ok(Op::Continue);
    }
    Err(error(c, "looking for beginning of object key string"))
}

fn end_value(step: &mut Step, stack: &mut Vec<Parse>, c: u8) -> Result<Op, String> {
    let Some(top) = stack.last_mut() else {
        // the top-level value ended before this byte
        *step = Step::EndTop;
        return Ok(Op::End);
    };
    if is_space(c) {
        *step = Step::EndValue;
        return Ok(Op::Continue);
    }
    match (*top, c) {
        (Parse::ObjectKey, b':') => {
            *top = Parse::ObjectValue;
            *step = Step::BeginValue;
            Ok(Op::Continue)
        }
        (Parse::ObjectKey, _) => Err(error(c, "after object key")),
        (Parse::ObjectValue, b',') => {
            *top = Parse::ObjectKey;
            *step = Step::BeginString;
            Ok(Op::Continue)
        }
        (Parse::ArrayValue, b',') => {
            *step = Step::BeginValue;
            Ok(Op::Continue)
        }
        (Parse::ObjectValue, b'}') | (Parse::ArrayValue, b']') => {
            stack.pop();
            *step = if stack.is_empty() {
                Step::EndTop
            } else {
                Step::EndValue
            };
            Ok(Op::Closed)
        }
        (Parse::ObjectValue, _) => Err(error(c, "after object key:value pair")),
        (Parse::ArrayValue, _) => Err(error(c, "after array element")),
    }
}

#[cfg(test)]
mod tests {
    //! Vectors pinned from Go's `encoding/json` (`json.NewDecoder(r).Decode(&raw)` with
    //! `raw json.RawMessage`, as Flipt's `gateway.decoderInterceptor.Decode` calls it).

    use super::first_value;

    fn value(body: &str) -> Result<Option<&str>, String> {
        first_value(body.as_bytes()).map(|r| r.map(|r| &body[r]))
    }

    #[test]
    fn the_first_value_is_read_and_the_rest_left() {
        assert_eq!(value(""), Ok(None));
        assert_eq!(value(" \n\t\r"), Ok(None));
        assert_eq!(
            value(r#" {"a":[1,2,{"b":null}]} trailing"#),
            Ok(Some(r#"{"a":[1,2,{"b":null}]}"#))
        );
        assert_eq!(value("{}}"), Ok(Some("{}")));
        assert_eq!(value("[] x"), Ok(Some("[]")));
        assert_eq!(value("null"), Ok(Some("null")));
        assert_eq!(value("12"), Ok(Some("12")));
        assert_eq!(value("12 x"), Ok(Some("12")));
        // Go reports "after top-level value" only on the next Decode, which the gateway never calls
        assert_eq!(value("1x"), Ok(Some("1")));
        assert_eq!(value("-0.5e+3]"), Ok(Some("-0.5e+3")));
        assert_eq!(value(r#""a\"\u00e9""#), Ok(Some(r#""a\"\u00e9""#)));
        assert_eq!(value("true false"), Ok(Some("true")));
    }

    #[test]
    fn syntax_errors_have_gos_words() {
        let cases = [
            (r#"{"flagKey":"checkout","#, "unexpected EOF"),
            ("{", "unexpected EOF"),
            ("-", "unexpected EOF"),
            ("tr", "unexpected EOF"),
            ("x", "invalid character 'x' looking for beginning of value"),
            (
                "{x",
                "invalid character 'x' looking for beginning of object key string",
            ),
            (r#"{"a" 1}"#, "invalid character '1' after object key"),
            (
                r#"{"a":1 "b"}"#,
                "invalid character '\"' after object key:value pair",
            ),
            ("[1 2]", "invalid character '2' after array element"),
            (
                "[1,]",
                "invalid character ']' looking for beginning of value",
            ),
            (
                r#"{"a":1,}"#,
                "invalid character '}' looking for beginning of object key string",
            ),
            ("\"a\nb\"", "invalid character '\\n' in string literal"),
            (r#""\x""#, "invalid character 'x' in string escape code"),
            (
                r#""\u12g4""#,
                "invalid character 'g' in \\u hexadecimal character escape",
            ),
            ("-a", "invalid character 'a' in numeric literal"),
            (
                "1.x",
                "invalid character 'x' after decimal point in numeric literal",
            ),
            (
                "1ex",
                "invalid character 'x' in exponent of numeric literal",
            ),
            (
                "tx",
                "invalid character 'x' in literal true (expecting 'r')",
            ),
            (
                "fals3",
                "invalid character '3' in literal false (expecting 'e')",
            ),
            ("nul", "unexpected EOF"),
            (
                "nulL",
                "invalid character 'L' in literal null (expecting 'l')",
            ),
            (
                "{'a':1}",
                "invalid character '\\'' looking for beginning of object key string",
            ),
            (
                "\u{1}",
                "invalid character '\\x01' looking for beginning of value",
            ),
            (
                "\\",
                "invalid character '\\\\' looking for beginning of value",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(value(body), Err(want.to_string()), "{body:?}");
        }
        // bytes are quoted as the code point of the same value (Go's `quoteChar`)
        let cases: [(&[u8], &str); 4] = [
            (
                b"\xff\xfe{",
                "invalid character '\u{ff}' looking for beginning of value",
            ),
            (
                b"\x7f",
                "invalid character '\\x7f' looking for beginning of value",
            ),
            (
                b"\x85",
                "invalid character '\\u0085' looking for beginning of value",
            ),
            (
                b"\xad",
                "invalid character '\\u00ad' looking for beginning of value",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(first_value(body), Err(want.to_string()), "{body:?}");
        }
        let deep = "[".repeat(10_001);
        assert_eq!(
            first_value(deep.as_bytes()),
            Err("invalid character '[' exceeded max depth".to_string())
        );
    }
}
