//! How a body is described in an error without quoting a byte of it: its JSON shape, or
//! what it looks like (HTML, text, binary).

pub(crate) fn looks_like_html(body: &[u8]) -> bool {
    let start = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(body.len());
    let head = &body[start..body.len().min(start + 15)];
    let lower: Vec<u8> = head.iter().map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"<!doctype html") || lower.starts_with(b"<html")
}

/// Describes a body by its shape alone: JSON types, counts and lengths, never a byte of a
/// key or a value.
///
/// A hostile or broken server may put a secret anywhere: in a quoted value, in a key, as an
/// unquoted value of malformed JSON, in a plain-text or form body. So nothing of the body
/// is copied: a JSON object reads `an object of 2 fields (string of 12 chars, number)`, a
/// body that is not JSON `41 bytes of text, not JSON`.
pub(crate) fn shape_snippet(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return if body.is_empty() {
            "<empty>".to_owned()
        } else {
            format!("<{} bytes of white space>", body.len())
        };
    }
    if looks_like_html(body) {
        return format!("<HTML page, {} bytes>", body.len());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(value) => format!("<{}>", json_shape(&value, 0)),
        Err(_) => {
            let first = body.iter().find(|b| !b.is_ascii_whitespace()).copied();
            let looks = match first {
                Some(b'{') => "malformed JSON object",
                Some(b'[') => "malformed JSON array",
                Some(b'"') => "malformed JSON string",
                _ if std::str::from_utf8(body).is_ok() => "text, not JSON",
                _ => "binary data, not JSON",
            };
            format!("<{} bytes of {looks}>", body.len())
        }
    }
}

/// The type of a JSON value, its length, and one level of what it holds.
fn json_shape(value: &serde_json::Value, depth: usize) -> String {
    use serde_json::Value;
    let plural = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "boolean".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(s) => format!("string of {}", plural(s.chars().count(), "char", "chars")),
        Value::Array(items) if depth > 0 || items.is_empty() => {
            format!("array of {}", plural(items.len(), "item", "items"))
        }
        Value::Object(fields) if depth > 0 || fields.is_empty() => {
            format!("object of {}", plural(fields.len(), "field", "fields"))
        }
        Value::Array(items) => {
            inner_shapes("array", plural(items.len(), "item", "items"), items.iter(), depth)
        }
        Value::Object(fields) => inner_shapes(
            "object",
            plural(fields.len(), "field", "fields"),
            fields.values(),
            depth,
        ),
    }
}

fn inner_shapes<'a>(
    kind: &str,
    count: String,
    values: impl Iterator<Item = &'a serde_json::Value>,
    depth: usize,
) -> String {
    const SHOWN: usize = 8;
    let mut shapes: Vec<String> = Vec::new();
    let mut more = 0usize;
    for value in values {
        if shapes.len() < SHOWN {
            shapes.push(json_shape(value, depth + 1));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        shapes.push(format!("{more} more"));
    }
    format!("{kind} of {count} ({})", shapes.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippet_describes_shape_and_quotes_nothing() {
        assert_eq!(
            shape_snippet(br#"{"token": "eyJsecret", "tokenType": "Bearer", "n": 5, "ok": true}"#),
            "<object of 4 fields (number, boolean, string of 9 chars, string of 6 chars)>"
        );
        assert_eq!(shape_snippet(br#""hunter2""#), "<string of 7 chars>");
        assert_eq!(
            shape_snippet(br#"{"hunter2": ["a", {}]}"#),
            "<object of 1 field (array of 2 items)>"
        );
        assert_eq!(shape_snippet(b"[]"), "<array of 0 items>");
        assert_eq!(shape_snippet(b""), "<empty>");
        assert_eq!(shape_snippet(b" \n"), "<2 bytes of white space>");
        assert_eq!(
            shape_snippet(b"  <!DOCTYPE html><p>down</p>"),
            "<HTML page, 28 bytes>"
        );
        assert_eq!(shape_snippet(b"password=hunter2"), "<16 bytes of text, not JSON>");
        assert_eq!(
            shape_snippet(b"token=abc&expires=300"),
            "<21 bytes of text, not JSON>"
        );
        assert_eq!(
            shape_snippet(br#"{"token": abc123}"#),
            "<17 bytes of malformed JSON object>"
        );
        assert_eq!(shape_snippet(b"\xff\xfe"), "<2 bytes of binary data, not JSON>");
        let long = format!("[{}1]", "1,".repeat(100));
        assert_eq!(
            shape_snippet(long.as_bytes()),
            "<array of 101 items (number, number, number, number, number, number, number, number, 93 more)>"
        );
    }
}
