//! How each value of the config file is spelled: `Display` and `FromStr` of the
//! config's value types, one spelling that the parser ([`Config::from_toml`])
//! reads and the file writer ([`super::file::ConfigFile::to_toml`]) writes.

use super::parse::{parse_community, parse_prefix, parse_prefix_rule};
use super::*;

use std::str::FromStr;

/// An error of a single value, not yet placed in a file (no key, no line).
fn value_error(message: String) -> ConfigError {
    ConfigError {
        key: String::new(),
        line: None,
        message,
    }
}

/// Finds the variant of `all` whose name is `s`.
fn by_name<T: Copy>(
    s: &str,
    all: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<T, ConfigError> {
    all.iter().copied().find(|&v| name(v) == s).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|&v| format!("{:?}", name(v))).collect();
        let expected = match names.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        value_error(format!("{s:?}: expected {expected}"))
    })
}

/// `Display` and `FromStr` of a keyword type (`"mio"`, `"both"`,
/// `"ipv4-unicast"`) through its `name()` and its list `ALL`.
macro_rules! keyword {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $t {
            type Err = ConfigError;
            fn from_str(s: &str) -> Result<Self, ConfigError> {
                by_name(s, &<$t>::ALL, <$t>::name)
            }
        }
    )*};
}
keyword!(RuntimeKind, AddPath, FamilyName);

/// `FromStr` of a value type through the parser's own function for it:
/// `ADDRESS/LENGTH` without host bits, `PREFIX [ge N] [le N]`, `ASN:VALUE` or
/// `ASN:DATA1:DATA2`.
macro_rules! parsed_by {
    ($($t:ty => $parse:ident),*) => {$(
        impl FromStr for $t {
            type Err = ConfigError;
            fn from_str(s: &str) -> Result<Self, ConfigError> {
                $parse(s).map_err(value_error)
            }
        }
    )*};
}
parsed_by!(
    Prefix => parse_prefix,
    PrefixRule => parse_prefix_rule,
    Community => parse_community
);

/// `PREFIX`, then `ge N` where it is not the prefix's own length, then `le N`
/// where it is not: what [`PrefixRule::from_str`] reads back as the same rule.
impl fmt::Display for PrefixRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.prefix)?;
        if self.ge != self.prefix.len {
            write!(f, " ge {}", self.ge)?;
        }
        if self.le != self.prefix.len {
            write!(f, " le {}", self.le)?;
        }
        Ok(())
    }
}

/// `ASN:VALUE` (RFC 1997) or `ASN:DATA1:DATA2` (RFC 8092).
impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Community::Standard(v) => write!(f, "{}:{}", v >> 16, v & 0xffff),
            Community::Large([a, b, c]) => write!(f, "{a}:{b}:{c}"),
        }
    }
}
