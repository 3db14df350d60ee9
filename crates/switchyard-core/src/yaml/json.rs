//! JSON text to positioned nodes, in one pass over the bytes.
//!
//! JSON is not handed to the YAML event parser: saphyr-parser keeps every token of a flow
//! collection that starts where an implicit key could (every top-level JSON value) until the
//! collection ends, which costs about 100 bytes per token for a whole minified file. This
//! reader builds the same nodes (same positions, same scalar resolution, duplicate keys refused,
//! the same limits) while it reads.

use std::borrow::Cow;

use super::mapping::Entries;
use super::{Key, Node, SyntaxError, Value, resolve_plain};
use crate::diagnostic::Pos;
use crate::limits::Limits;

/// Parses a file of one or more concatenated JSON values; every non-null value is one document.
pub(crate) fn parse_json<'a>(text: &'a str, limits: &Limits) -> Result<Vec<Node<'a>>, SyntaxError> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
        line: 1,
        col: 1,
        nodes: 0,
        limits,
    };
    let mut docs = Vec::new();
    let mut count = 0usize;
    loop {
        r.skip_ws();
        if r.at == r.bytes.len() {
            return Ok(docs);
        }
        if count >= limits.max_documents_per_file {
            return Err(r.error(format!(
                "file has more than {} documents (limit)",
                limits.max_documents_per_file
            )));
        }
        count += 1;
        let node = r.value(0)?;
        if node.value != Value::Null {
            docs.push(node);
        }
    }
}

struct Reader<'a, 'l> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: u32,
    col: u32,
    nodes: usize,
    limits: &'l Limits,
}

impl<'a> Reader<'a, '_> {
    fn pos(&self) -> Pos {
        Pos::new(self.line, self.col)
    }

    fn error(&self, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            pos: self.pos(),
            message: message.into(),
        }
    }

    fn invalid(&self, what: &str) -> SyntaxError {
        if self.at >= self.bytes.len() {
            return self.error("invalid JSON: unexpected end of input");
        }
        self.error(format!("invalid JSON: {what}"))
    }

    /// Moves past one byte, counting lines and (character) columns.
    fn bump(&mut self) {
        let b = self.bytes[self.at];
        self.at += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 {
            self.col += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump();
        }
    }

    fn count(&mut self, pos: Pos) -> Result<(), SyntaxError> {
        self.nodes += 1;
        if self.nodes > self.limits.max_nodes_per_file {
            return Err(SyntaxError {
                pos,
                message: format!(
                    "file has more than {} nodes (limit)",
                    self.limits.max_nodes_per_file
                ),
            });
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Node<'a>, SyntaxError> {
        let pos = self.pos();
        if depth > self.limits.max_depth {
            return Err(self.error(format!(
                "nesting deeper than {} levels (limit)",
                self.limits.max_depth
            )));
        }
        self.count(pos)?;
        let value = match self.peek() {
            Some(b'{') => self.object(depth)?,
            Some(b'[') => self.array(depth)?,
            Some(b'"') => Value::Str(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.word("true", Value::Bool(true))?,
            Some(b'f') => self.word("false", Value::Bool(false))?,
            Some(b'n') => self.word("null", Value::Null)?,
            _ => return Err(self.invalid("expected a value")),
        };
        Ok(Node { value, pos })
    }

    fn word(&mut self, word: &str, value: Value<'a>) -> Result<Value<'a>, SyntaxError> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            for _ in 0..word.len() {
                self.bump();
            }
            Ok(value)
        } else {
            Err(self.invalid("expected a value"))
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value<'a>, SyntaxError> {
        self.bump();
        let mut entries = Entries::default();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Value::Map(entries.into_vec()));
        }
        loop {
            self.skip_ws();
            let key_pos = self.pos();
            if self.peek() != Some(b'"') {
                return Err(self.invalid("expected a string key"));
            }
            self.count(key_pos)?;
            let name = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.invalid("expected `:`"));
            }
            self.bump();
            self.skip_ws();
            let value = self.value(depth + 1)?;
            if let Some(first) = entries.find(&name) {
                return Err(SyntaxError {
                    pos: key_pos,
                    message: format!(
                        "duplicate key `{}` (first defined at line {} column {})",
                        crate::diagnostic::clip(&name),
                        first.pos.line,
                        first.pos.column
                    ),
                });
            }
            entries.push(Key { name, pos: key_pos }, value);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(Value::Map(entries.into_vec()));
                }
                _ => return Err(self.invalid("expected `,` or `}`")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value<'a>, SyntaxError> {
        self.bump();
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Value::Seq(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(Value::Seq(items));
                }
                _ => return Err(self.invalid("expected `,` or `]`")),
            }
        }
    }

    /// A string at the opening quote; borrowed from the text when it has no escape.
    fn string(&mut self) -> Result<Cow<'a, str>, SyntaxError> {
        self.bump();
        let start = self.at;
        let mut owned: Option<String> = None;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.invalid("unterminated string"));
            };
            match b {
                b'"' => {
                    let s = match owned {
                        Some(s) => Cow::Owned(s),
                        None => Cow::Borrowed(&self.text[start..self.at]),
                    };
                    self.bump();
                    return Ok(s);
                }
                b'\\' => {
                    let s = owned.get_or_insert_with(|| self.text[start..self.at].to_string());
                    self.at += 1;
                    self.col += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.bump();
                            let c = self.unicode_escape()?;
                            s.push(c);
                            continue;
                        }
                        _ => return Err(self.invalid("invalid escape in a string")),
                    };
                    s.push(c);
                    self.bump();
                }
                0x00..=0x1F => return Err(self.invalid("control character in a string")),
                _ => {
                    let len = utf8_len(b);
                    if let Some(s) = owned.as_mut() {
                        s.push_str(&self.text[self.at..self.at + len]);
                    }
                    self.at += len;
                    self.col += 1;
                }
            }
        }
    }

    /// Four hex digits after `\u` (and a second escape for a surrogate pair).
    fn unicode_escape(&mut self) -> Result<char, SyntaxError> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if !self.bytes[self.at..].starts_with(b"\\u") {
                return Err(self.invalid("lone surrogate in a \\u escape"));
            }
            self.bump();
            self.bump();
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.invalid("lone surrogate in a \\u escape"));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| self.invalid("lone surrogate in a \\u escape"))
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(|b| (b as char).to_digit(16))
                .ok_or_else(|| self.invalid("invalid \\u escape"))?;
            v = v * 16 + d;
            self.bump();
        }
        Ok(v)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, resolved as YAML's core schema does.
    fn number(&mut self) -> Result<Value<'a>, SyntaxError> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.invalid("invalid number (leading zero)"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.invalid("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.invalid("invalid number"));
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.bump();
            if let Some(b'+' | b'-') = self.peek() {
                self.bump();
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.invalid("invalid number"));
            }
            self.digits();
        }
        Ok(resolve_plain(Cow::Borrowed(&self.text[start..self.at])))
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.bump();
        }
    }
}

/// Length of the UTF-8 sequence that starts with `b` (the text is valid UTF-8).
fn utf8_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}
