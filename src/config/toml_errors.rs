//! Errors as the user should read them: TOML library messages in plain words with the full
//! key, and every error of a file collected into one report.

use super::ConfigError;

/// serde names the offending key of an unknown field in its message: "unknown field `x`, expected …".
pub(super) fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// The value, or `None` with its error kept for the report.
pub(super) fn keep<T>(errors: &mut Vec<ConfigError>, result: Result<T, ConfigError>) -> Option<T> {
    result.map_err(|e| errors.push(e)).ok()
}

/// One error as itself, several as a list.
pub(super) fn several(mut errors: Vec<ConfigError>) -> ConfigError {
    if errors.len() == 1 {
        errors.remove(0)
    } else {
        ConfigError::Several(errors)
    }
}

/// The `[table]` or `[[table]]` in force at `offset` (its own header included), if any.
pub(super) fn table_at(text: &str, offset: usize) -> Option<String> {
    let end = text[offset.min(text.len())..]
        .find('\n')
        .map_or(text.len(), |n| offset.min(text.len()) + n);
    text[..end]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(['[', ']']).trim().to_string())
        .filter(|t| !t.is_empty())
}

/// `key` with its table: `interval` under `[fetch]` is `fetch.interval`.
pub(super) fn qualified(table: Option<&str>, key: &str) -> String {
    match table {
        Some(table) if !key.starts_with(&format!("{table}.")) && key != table => {
            format!("{table}.{key}")
        }
        _ => key.to_string(),
    }
}

/// The TOML library's message in the words of someone editing the file.
pub(super) fn in_user_words(message: &str, key: &str) -> String {
    if message.contains("invalid type: map, expected a sequence") {
        let table = key.split('.').next().unwrap_or(key);
        return format!("write `[[{table}]]` (two brackets) for each {table}, not `[{table}]`");
    }
    let Some(rest) = message.strip_prefix("invalid type: ") else {
        return message.to_string();
    };
    let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
    let expected = match expected {
        e if ["i64", "u64", "i32", "u32", "usize", "u16", "u8"].contains(&e) => "a whole number",
        e if e.starts_with("a string") => "text in quotes, like \"30m\"",
        "a boolean" => "true or false",
        "a sequence" => "a list, like [\"ai\", \"tech\"]",
        e if e.starts_with("a map") || e.starts_with("struct") => "a table",
        e => e,
    };
    let found = found
        .replace("string ", "the text ")
        .replace("integer ", "the number ")
        .replace("map", "a table")
        .replace("sequence", "a list");
    format!("expected {expected}, found {found}")
}

/// The key written at the start of the line holding `offset`, for syntax and type errors.
pub(super) fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty()).then(|| key.to_string())
}
