//! What a session list shows of a client.

/// A short, non-identifying description of a client for a session list ("Firefox on Linux"),
/// from its `User-Agent`. Only this summary is stored, never the header.
pub fn summarize_user_agent(raw: &str) -> Option<String> {
    const BROWSERS: &[(&[&str], &str)] = &[
        (&["Edg/", "EdgA/", "EdgiOS/"], "Edge"),
        (&["OPR/", "Opera"], "Opera"),
        (&["SamsungBrowser/"], "Samsung Internet"),
        (&["Firefox/", "FxiOS/"], "Firefox"),
        (&["CriOS/", "Chrome/", "Chromium/"], "Chrome"),
        (&["Safari/"], "Safari"),
    ];
    const SYSTEMS: &[(&[&str], &str)] = &[
        (&["Windows"], "Windows"),
        (&["Android"], "Android"),
        (&["iPhone", "iPad", "iPod"], "iOS"),
        (&["CrOS"], "ChromeOS"),
        (&["Macintosh", "Mac OS X"], "macOS"),
        (&["Linux"], "Linux"),
    ];
    let raw: String = raw.chars().take(512).collect();
    let find = |table: &[(&[&str], &'static str)]| {
        table.iter().find(|(needles, _)| needles.iter().any(|n| raw.contains(n))).map(|(_, name)| *name)
    };
    let browser = find(BROWSERS).map(str::to_owned).or_else(|| {
        // Another client (curl, an app): its first product name, letters and digits only.
        let product: String = raw
            .split(['/', ' '])
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
            .take(32)
            .collect();
        (!product.is_empty()).then_some(product)
    });
    match (browser, find(SYSTEMS)) {
        (Some(b), Some(os)) => Some(format!("{b} on {os}")),
        (Some(b), None) => Some(b),
        (None, Some(os)) => Some(os.to_owned()),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_summarised_without_identifying_details() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", Some("Firefox on Linux")),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
                Some("Safari on macOS"),
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
                Some("Edge on Windows"),
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1",
                Some("Chrome on iOS"),
            ),
            (
                "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
                Some("Chrome on Android"),
            ),
            ("curl/8.8.0", Some("curl")),
            ("\u{202e}evil\u{0}/1", Some("evil")),
            ("", None),
        ];
        for (raw, expected) in cases {
            assert_eq!(summarize_user_agent(raw).as_deref(), expected, "{raw}");
        }
    }
}
