//! Python `re` patterns run by Rust's linear-time `regex`, when the two mean
//! the same thing. The faces (sofart, microdb) evaluate user patterns; with
//! Python's backtracking `re`, `^(a+)+$` against `"a" * 32 + "!"` runs for
//! minutes. [`translate`] accepts a pattern only where it can prove the
//! meaning is kept; anything else (backreferences, lookaround, set
//! operations in classes, `$` followed by more pattern) is refused, and the
//! caller falls back to `re`.

use regex::{Regex, RegexBuilder};

/// Python's `re` flag bits that have a Rust equivalent.
pub const IGNORECASE: u32 = 2;
/// `re.MULTILINE`.
pub const MULTILINE: u32 = 8;
/// `re.DOTALL`.
pub const DOTALL: u32 = 16;
/// `re.UNICODE` (the default for str patterns: no effect).
pub const UNICODE: u32 = 32;

/// How a compiled pattern is matched, as Python's `search`, `match` and
/// `fullmatch` do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Anywhere in the text.
    Search,
    /// At the start of the text.
    Match,
    /// The whole text.
    Full,
}

/// Why a pattern is not taken (the caller falls back to Python's `re`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Compiles Python pattern `pattern` with `flags` for `mode`, or refuses.
pub fn compile(pattern: &str, flags: u32, mode: Mode) -> Result<Regex, Refused> {
    // re.VERBOSE is refused too: its comments would be read as pattern.
    if flags & !(IGNORECASE | MULTILINE | DOTALL | UNICODE) != 0 {
        return Err(Refused(format!("flags {flags:#x} have no Rust equivalent")));
    }
    let body = translate(pattern, flags & MULTILINE != 0, mode)?;
    let anchored = match mode {
        Mode::Search => body,
        Mode::Match => format!(r"\A(?:{body})"),
        Mode::Full => format!(r"\A(?:{body})\z"),
    };
    RegexBuilder::new(&anchored)
        .case_insensitive(flags & IGNORECASE != 0)
        .multi_line(flags & MULTILINE != 0)
        .dot_matches_new_line(flags & DOTALL != 0)
        .build()
        .map_err(|e| Refused(e.to_string()))
}

/// Rewrites the few Python spellings Rust lacks, refusing what it cannot
/// keep exact.
fn translate(pattern: &str, multiline: bool, mode: Mode) -> Result<String, Refused> {
    let refuse = |why: &str| Err(Refused(why.to_string()));
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return refuse("trailing backslash");
                };
                match next {
                    // Python's end of text; Rust spells it \z.
                    'Z' if !in_class => out.push_str(r"\z"),
                    'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B' | 'A' | 'n' | 't' | 'r' | 'f'
                    | 'v' => {
                        if in_class && matches!(next, 'b' | 'B' | 'A') {
                            return refuse("\\b, \\B or \\A inside a class");
                        }
                        out.push('\\');
                        out.push(next);
                    }
                    n if n.is_ascii_punctuation() => {
                        out.push('\\');
                        out.push(n);
                    }
                    _ => return refuse("escape without a known Rust equivalent"),
                }
                i += 2;
                continue;
            }
            '[' if in_class => {
                // Rust reads `[` inside a class as a nested class.
                out.push_str(r"\[");
            }
            '[' => {
                in_class = true;
                out.push('[');
                // A leading `]` (or `^]`) is a literal in both.
                if chars.get(i + 1) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i + 1) == Some(&']') {
                    out.push_str(r"\]");
                    i += 1;
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            '&' | '-' | '~' if in_class && chars.get(i + 1) == Some(&c) => {
                // Set operations in Rust, literals in Python.
                return refuse("doubled &, - or ~ inside a class");
            }
            '$' if !in_class && !multiline => {
                // Python's `$` also matches before a final newline. Kept
                // exact only at the end of the pattern (group ends aside):
                // then, for a search or a match, `\n?\z` is the same test,
                // and for a full match only `\z` can be.
                let rest_ok = chars[i + 1..].iter().all(|&r| r == ')');
                if !rest_ok {
                    return refuse("$ followed by more pattern");
                }
                out.push_str(if mode == Mode::Full {
                    r"\z"
                } else {
                    r"(?:\n?\z)"
                });
            }
            '{' if !in_class => {
                // Python reads a brace that is not a full quantifier as a
                // literal; Rust refuses it. Keep exact quantifiers only.
                let close = chars[i..].iter().position(|&r| r == '}');
                let Some(close) = close else {
                    return refuse("literal {");
                };
                let inner: String = chars[i + 1..i + close].iter().collect();
                let ok = !inner.is_empty()
                    && inner.split(',').count() <= 2
                    && inner.split(',').next().is_some_and(|a| !a.is_empty())
                    && inner.chars().all(|ch| ch.is_ascii_digit() || ch == ',');
                if !ok {
                    return refuse("a brace that is not m or m,n");
                }
                out.push('{');
                out.push_str(&inner);
                out.push('}');
                i += close + 1;
                continue;
            }
            _ => out.push(c),
        }
        i += 1;
    }
    if in_class {
        return refuse("unterminated class");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yes(p: &str, mode: Mode, text: &str) -> bool {
        compile(p, 0, mode).unwrap().is_match(text)
    }

    #[test]
    fn catastrophic_patterns_answer_at_once() {
        let text = format!("{}!", "a".repeat(32));
        assert!(!yes("^(a+)+$", Mode::Search, &text));
        assert!(!yes(r"^(a+)+\Z", Mode::Match, &text));
        assert!(!yes("(a+)+", Mode::Full, &text));
    }

    #[test]
    fn dollar_keeps_pythons_final_newline_rule() {
        assert!(yes("a$", Mode::Search, "xa\n"));
        assert!(yes("a$", Mode::Match, "a\n"));
        assert!(!yes("a$", Mode::Full, "a\n"));
        assert!(!yes(r"a\Z", Mode::Search, "a\n"));
        assert!(compile("a$b", 0, Mode::Search).is_err());
        assert!(yes("(b|a$)", Mode::Search, "xa\n"));
        // Something after `$` could match the final newline in Python.
        assert!(compile("(a$|b)\n", 0, Mode::Search).is_err());
    }

    #[test]
    fn modes_anchor_like_python() {
        assert!(yes("b", Mode::Search, "abc"));
        assert!(!yes("b", Mode::Match, "abc"));
        assert!(yes("ab", Mode::Match, "abc"));
        assert!(!yes("ab", Mode::Full, "abc"));
        assert!(yes("a|ab", Mode::Full, "ab"));
    }

    #[test]
    fn what_rust_cannot_mean_the_same_is_refused() {
        for p in [
            r"(a)\1", "(?=a)", "(?<=a)b", "[a&&b]", "[a--b]", "a{", "a{x}", r"\p{L}",
        ] {
            assert!(compile(p, 0, Mode::Search).is_err(), "{p}");
        }
        assert!(compile("a", 256, Mode::Search).is_err()); // re.ASCII
        assert!(compile("a # $", 64, Mode::Search).is_err()); // re.VERBOSE
        assert!(yes("[[]", Mode::Search, "["));
        assert!(yes("[]a]", Mode::Search, "]"));
        assert!(yes("a{2,3}", Mode::Full, "aaa"));
        assert!(compile("A", IGNORECASE, Mode::Full).unwrap().is_match("a"));
    }
}
