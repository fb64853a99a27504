//! Which IP addresses are not on the public internet: loopback, private, link-local,
//! carrier-grade NAT, unspecified, multicast, documentation and other special-use ranges
//! (RFC 6890 and the IANA special-purpose registries). An IPv6 address that carries an
//! IPv4 one (mapped, NAT64, 6to4) is judged by the IPv4 address inside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

const fn v6(segments: [u16; 3], len: u8) -> Ipv6Net {
    let [a, b, c] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, 0, 0, 0, 0, 0), len)
}

/// IPv4 ranges that are not public, and what each is.
const SPECIAL_V4: &[(Ipv4Net, &str)] = &[
    (v4(0, 0, 0, 0, 8), "\"this network\" (unspecified)"),
    (v4(10, 0, 0, 0, 8), "private"),
    (v4(100, 64, 0, 0, 10), "carrier-grade NAT"),
    (v4(127, 0, 0, 0, 8), "loopback"),
    (v4(169, 254, 0, 0, 16), "link-local"),
    (v4(172, 16, 0, 0, 12), "private"),
    (v4(192, 0, 0, 0, 24), "IETF protocol"),
    (v4(192, 0, 2, 0, 24), "documentation"),
    (v4(192, 88, 99, 0, 24), "6to4 relay"),
    (v4(192, 168, 0, 0, 16), "private"),
    (v4(198, 18, 0, 0, 15), "benchmarking"),
    (v4(198, 51, 100, 0, 24), "documentation"),
    (v4(203, 0, 113, 0, 24), "documentation"),
    (v4(224, 0, 0, 0, 4), "multicast"),
    (v4(240, 0, 0, 0, 4), "reserved"),
];

/// IPv6 ranges that are not public (besides those carrying an IPv4 address).
const SPECIAL_V6: &[(Ipv6Net, &str)] = &[
    (
        Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 128),
        "unspecified",
    ),
    (Ipv6Net::new_assert(Ipv6Addr::LOCALHOST, 128), "loopback"),
    (v6([0, 0, 0], 96), "IPv4-compatible (deprecated)"),
    (v6([0x64, 0xff9b, 1], 48), "local NAT64"),
    (v6([0x100, 0, 0], 64), "discard-only"),
    (v6([0x2001, 0, 0], 23), "IETF protocol"),
    (v6([0x2001, 0xdb8, 0], 32), "documentation"),
    (v6([0x3fff, 0, 0], 20), "documentation"),
    (v6([0xfc00, 0, 0], 7), "unique local (private)"),
    (v6([0xfe80, 0, 0], 10), "link-local"),
    (v6([0xfec0, 0, 0], 10), "site-local (deprecated)"),
    (v6([0xff00, 0, 0], 8), "multicast"),
];

const NAT64: Ipv6Net = v6([0x64, 0xff9b, 0], 96);
const SIX_TO_FOUR: Ipv6Net = v6([0x2002, 0, 0], 16);

/// What kind of non-public address `ip` is, or `None` for a public one.
pub fn special_use(ip: IpAddr) -> Option<&'static str> {
    match ip.to_canonical() {
        IpAddr::V4(ip) => SPECIAL_V4
            .iter()
            .find(|(net, _)| net.contains(&ip))
            .map(|(_, kind)| *kind),
        IpAddr::V6(ip) => {
            if let Some(inner) = embedded_v4(ip) {
                return special_use(IpAddr::V4(inner));
            }
            SPECIAL_V6
                .iter()
                .find(|(net, _)| net.contains(&ip))
                .map(|(_, kind)| *kind)
        }
    }
}

/// The IPv4 address a NAT64 (64:ff9b::/96) or 6to4 (2002::/16) address leads to.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let octets = ip.octets();
    let at = |start: usize| {
        Ipv4Addr::new(
            octets[start],
            octets[start + 1],
            octets[start + 2],
            octets[start + 3],
        )
    };
    if NAT64.contains(&ip) {
        Some(at(12))
    } else if SIX_TO_FOUR.contains(&ip) {
        Some(at(2))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<&'static str> {
        special_use(text.parse().expect("an address"))
    }

    #[test]
    fn loopback_private_link_local_and_cgnat_are_not_public() {
        assert_eq!(kind("127.0.0.1"), Some("loopback"));
        assert_eq!(kind("127.255.0.9"), Some("loopback"));
        assert_eq!(kind("10.0.0.1"), Some("private"));
        assert_eq!(kind("172.31.255.255"), Some("private"));
        assert_eq!(kind("192.168.1.1"), Some("private"));
        assert_eq!(kind("169.254.169.254"), Some("link-local"));
        assert_eq!(kind("100.64.0.1"), Some("carrier-grade NAT"));
        assert_eq!(kind("0.0.0.0"), Some("\"this network\" (unspecified)"));
        assert_eq!(kind("255.255.255.255"), Some("reserved"));
        assert_eq!(kind("224.0.0.1"), Some("multicast"));
    }

    #[test]
    fn ipv6_special_ranges_are_not_public() {
        assert_eq!(kind("::1"), Some("loopback"));
        assert_eq!(kind("::"), Some("unspecified"));
        assert_eq!(kind("fe80::1"), Some("link-local"));
        assert_eq!(kind("fd00::1"), Some("unique local (private)"));
        assert_eq!(kind("fc00::1"), Some("unique local (private)"));
        assert_eq!(kind("ff02::1"), Some("multicast"));
        assert_eq!(kind("2001:db8::1"), Some("documentation"));
    }

    #[test]
    fn ipv6_forms_of_ipv4_addresses_are_judged_by_the_ipv4_inside() {
        assert_eq!(kind("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(kind("::ffff:169.254.169.254"), Some("link-local"));
        assert_eq!(kind("64:ff9b::10.0.0.1"), Some("private"));
        assert_eq!(kind("2002:7f00:1::"), Some("loopback"));
        assert_eq!(kind("::127.0.0.1"), Some("IPv4-compatible (deprecated)"));
        assert_eq!(kind("::ffff:8.8.8.8"), None);
        assert_eq!(kind("64:ff9b::8.8.8.8"), None);
    }

    #[test]
    fn public_addresses_are_public() {
        for public in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "172.32.0.1",
            "2606:4700::1111",
        ] {
            assert_eq!(kind(public), None, "{public}");
        }
    }
}
