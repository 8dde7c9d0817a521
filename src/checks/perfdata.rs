//! Nagios plugin performance data: `'label'=value[UOM];[warn];[crit];[min];[max]`, separated by
//! spaces (monitoring-plugins development guidelines, "Performance data").

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Perf {
    pub label: String,
    pub value: f64,
    pub uom: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Perf {
    pub fn new(label: &str, value: f64, uom: &str) -> Self {
        Perf {
            label: label.into(),
            value,
            uom: uom.into(),
            warn: None,
            crit: None,
            min: None,
            max: None,
        }
    }
}

pub fn parse_perfdata(text: &str) -> Vec<Perf> {
    split_items(text)
        .iter()
        .filter_map(|item| parse_item(item))
        .collect()
}

/// Splits on spaces, except inside single-quoted labels.
fn split_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    items.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        items.push(current);
    }
    items
}

fn parse_item(item: &str) -> Option<Perf> {
    let (label, rest) = item.rsplit_once('=')?;
    let label = label.trim_matches('\'').replace("''", "'");
    let mut fields = rest.split(';');
    let value_text = fields.next()?;
    let split = value_text
        .find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c)))
        .unwrap_or(value_text.len());
    let value: f64 = value_text[..split].parse().ok()?;
    let uom = value_text[split..].to_string();
    let non_empty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
    let warn = non_empty(fields.next());
    let crit = non_empty(fields.next());
    let min = fields.next().and_then(|s| s.parse().ok());
    let max = fields.next().and_then(|s| s.parse().ok());
    Some(Perf {
        label,
        value,
        uom,
        warn,
        crit,
        min,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plugin_perfdata() {
        let perf =
            parse_perfdata("time=0.002s;;;0.000000;10.000000 'size a'=301B;;;0 load1=0.5;5;10;0");
        assert_eq!(perf.len(), 3);
        assert_eq!(perf[0].label, "time");
        assert_eq!(perf[0].uom, "s");
        assert_eq!(perf[0].max, Some(10.0));
        assert_eq!(perf[1].label, "size a");
        assert_eq!(perf[1].value, 301.0);
        assert_eq!(perf[2].warn.as_deref(), Some("5"));
    }
}
