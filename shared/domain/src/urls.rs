//! Which URLs a third party names (an LMS platform's endpoints and key set, an OpenID provider's
//! discovery document) the tool may call, or accept for calling later: `https://` in AWS. Plain
//! HTTP to a loopback host only when the wiring says so (`VIVID_ALLOW_PRIVATE_DOWNLOADS`, which the
//! local stack sets for its stand-ins and no deployment does): inside Lambda, loopback is the
//! runtime API's own address. Parsed as the HTTP client parses them (the `url` crate, reqwest's).
//!
//! And at which addresses: public ones only ([`is_public_ip`]), outside the local stack. The HTTP
//! adapter (vivid-http) applies the rule to every address a name resolves to and, with
//! [`public_host`], to an address written into a URL; an operator's registration is checked by it
//! before anything is fetched.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `url` may be fetched: `https://` with a host; `http://` on a loopback host only with
/// `loopback_http` (the local stack).
pub fn fetchable(url: &str, loopback_http: bool) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    match parsed.scheme() {
        "https" => parsed.host_str().is_some_and(|h| !h.is_empty()),
        "http" => loopback_http && matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")),
        _ => false,
    }
}

/// Whether `ip` is on the public internet. For IPv4 not "this network" (0/8, 0.0.0.0 among them),
/// private (10/8, 172.16/12, 192.168/16), shared (CGNAT, 100.64/10), loopback (127/8), link-local
/// (169.254/16, the instance metadata service's), IETF protocol assignments (192.0.0/24),
/// documentation (192.0.2/24, 198.51.100/24, 203.0.113/24), benchmarking (198.18/15), multicast
/// (224/4) nor reserved (240/4, broadcast among them). For IPv6 not unspecified, loopback,
/// multicast (ff00::/8), unique local (fc00::/7), link-local (fe80::/10), documentation
/// (2001:db8::/32), 6to4 (2002::/16) nor NAT64 (64:ff9b::/96, 64:ff9b:1::/48): those two carry an
/// IPv4 address a relay or translator reaches, any of them; nor an IPv4-mapped (`::ffff:a.b.c.d`)
/// or IPv4-compatible (`::a.b.c.d`) address whose IPv4 address is not public.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    !(a == 0
        || v4.is_private()
        || a == 100 && (64..128).contains(&b)
        || v4.is_loopback()
        || v4.is_link_local()
        || a == 192 && b == 0 && c == 0
        || v4.is_documentation()
        || a == 198 && (b & 0xfe) == 18
        || v4.is_multicast()
        || a >= 240)
}

fn is_public_v6(v6: Ipv6Addr) -> bool {
    let s = v6.segments();
    !(v6.is_unspecified()
        || v6.is_loopback()
        || v6.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || s[..2] == [0x2001, 0x0db8]
        || s[0] == 0x2002
        || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
        || s[..3] == [0x64, 0xff9b, 1]
        // IPv4-mapped and IPv4-compatible both (`to_ipv4`; `::1` is 0.0.0.1 there, not public).
        || v6.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// The IP address `url`'s host is written as, if it is one, as the HTTP client reads it: the url
/// crate parses any IPv4 form of an `http(s)` URL (`0x7f.1`, `0177.0.0.1`, `2130706433`) into the
/// address hyper then connects to, and an IPv6 host without its brackets. `None` for a name or an
/// unparsable URL.
pub fn ip_host(url: &str) -> Option<IpAddr> {
    match url::Url::parse(url).ok()?.host()? {
        url::Host::Ipv4(v4) => Some(IpAddr::V4(v4)),
        url::Host::Ipv6(v6) => Some(IpAddr::V6(v6)),
        url::Host::Domain(_) => None,
    }
}

/// Whether `url`'s host may be connected to: any with `allow_private` (the local stack, whose
/// stand-ins listen on 127.0.0.1); else a name (the HTTP client's resolver checks where it leads
/// when connecting) or a public IP address ([`is_public_ip`]). An unparsable URL, or one without a
/// host, is not.
pub fn public_host(url: &str, allow_private: bool) -> bool {
    let Ok(parsed) = url::Url::parse(url) else { return false };
    if parsed.host_str().is_none_or(str::is_empty) {
        return false;
    }
    allow_private || ip_host(url).is_none_or(is_public_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_is_fetched_unless_the_local_stack_allows_loopback() {
        assert!(fetchable("https://lms.example/jwks", false));
        assert!(fetchable("http://127.0.0.1:9000/jwks", true));
        assert!(fetchable("http://localhost:9000/jwks", true));
        assert!(fetchable("http://[::1]:9000/jwks", true));
        // In AWS, loopback is the Lambda runtime API's address: never fetched there.
        assert!(!fetchable("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", false));
        assert!(!fetchable("http://localhost:9000/jwks", false));
        assert!(!fetchable("http://lms.example/jwks", true));
        assert!(!fetchable("http://127.0.0.1.evil.example/jwks", true));
        assert!(!fetchable("file:///etc/passwd", true));
        assert!(!fetchable("not a url", true));
        assert!(!fetchable("https://", true));
    }

    #[test]
    fn only_public_addresses_pass() {
        for private in [
            // IPv4: this network (0/8), private, loopback, link-local (the metadata service),
            // broadcast, shared (CGNAT), IETF protocol assignments, benchmarking, multicast,
            // reserved, documentation.
            "0.0.0.0",
            "0.1.2.3",
            "0.255.255.255",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "255.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "192.0.0.1",
            "192.0.0.170",
            "192.0.0.255",
            "198.18.0.1",
            "198.19.255.254",
            "224.0.0.1",
            "232.1.2.3",
            "239.255.255.250",
            "240.0.0.1",
            "250.1.2.3",
            "192.0.2.7",
            "198.51.100.7",
            "203.0.113.7",
            // IPv6: loopback, unspecified, unique local, link-local, multicast, documentation.
            "::1",
            "::",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "ff02::1",
            "ff05::1:3",
            "ff0e::101",
            "2001:db8::1",
            // IPv4-mapped and IPv4-compatible non-public.
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::a9fe:a9fe",
            "::10.0.0.1",
            "::0.0.0.2",
            // NAT64 (well-known and local-use prefixes) and 6to4, whatever IPv4 address they carry.
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::808:808",
            "64:ff9b:1::a00:1",
            "64:ff9b:1:ffff::1",
            "2002:a9fe:a9fe::1",
            "2002:808:808::1",
        ] {
            assert!(!is_public_ip(private.parse().expect("ip")), "{private}");
        }
        for public in [
            "52.1.2.3",
            "8.8.8.8",
            "1.0.0.1",
            "1.1.1.1",
            "172.15.255.255",
            "172.32.0.1",
            "100.63.255.255",
            "100.128.0.1",
            "169.253.1.1",
            "192.0.1.255",
            "192.0.3.1",
            "198.17.255.255",
            "198.20.0.1",
            "223.255.255.254",
            "2606:4700::1111",
            "2a00:1450:4001::200e",
            "2001:db9::1",
            "2003::1",
            "64:ff9b:2::1",
            "64:ff9a::1",
            "fec0::1",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
        ] {
            assert!(is_public_ip(public.parse().expect("ip")), "{public}");
        }
    }

    #[test]
    fn an_ip_host_is_read_in_any_of_its_forms() {
        let loopback = Some(IpAddr::V4(Ipv4Addr::LOCALHOST));
        for url in [
            "https://127.0.0.1/jwks",
            "https://0x7f.1/jwks",
            "https://0177.0.0.1/jwks",
            "https://2130706433/jwks",
            "https://0x7f000001:8443/jwks",
        ] {
            assert_eq!(ip_host(url), loopback, "{url}");
        }
        assert_eq!(ip_host("https://[::ffff:a9fe:a9fe]/"), Some("::ffff:169.254.169.254".parse().expect("ip")));
        for url in ["https://lms.example/jwks", "https://127.0.0.1.example/", "not a url", "https://"] {
            assert_eq!(ip_host(url), None, "{url}");
        }
    }

    #[test]
    fn an_address_in_the_url_must_be_public_unless_private_ones_are_allowed() {
        for url in [
            "https://169.254.169.254/latest/meta-data/",
            "https://10.0.0.5/jwks",
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
            "https://0x7f.1/jwks",
            "https://0177.0.0.1/jwks",
            "https://2130706433/jwks",
            "https://0/jwks",
            "https://[::1]/jwks",
            "https://[::ffff:a9fe:a9fe]/jwks",
            "https://[::127.0.0.1]/jwks",
            "https://[::a9fe:a9fe]/jwks",
            "https://[64:ff9b::a9fe:a9fe]/jwks",
            "https://[2002:a9fe:a9fe::]/jwks",
            "https://[ff02::1]/jwks",
            "https://[fd00:ec2::254]/jwks",
            "https://198.18.0.1/jwks",
            "https://224.0.0.1/jwks",
        ] {
            assert!(!public_host(url, false), "{url}");
            assert!(public_host(url, true), "{url}");
        }
        // Names pass: the resolver decides when connecting.
        for url in
            ["https://lms.example/jwks", "https://localhost/jwks", "https://8.8.8.8/jwks", "https://[2606:4700::1111]/"]
        {
            assert!(public_host(url, false), "{url}");
        }
        for url in ["not a url", "data:text/plain,x", "file:///etc/passwd"] {
            assert!(!public_host(url, true), "{url}");
        }
    }
}
