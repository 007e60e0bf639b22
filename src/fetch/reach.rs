//! Which addresses a feed may reach (`allow_private`). Public addresses always; loopback,
//! private-network and link-local ones only when the feed's configured URL is itself in that
//! range, or `allow_private` is set. Redirect hops are checked by name and address, and the
//! client of public feeds resolves through `PublicOnly`, so a public name that answers with a
//! private address (DNS rebinding) is refused at connect time too.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The kind of network an address belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Public,
    Loopback,
    /// RFC 1918, RFC 6598 shared space, IPv6 unique-local.
    Private,
    /// 169.254/16 (cloud metadata services live here) and fe80::/10.
    LinkLocal,
}

pub fn range(ip: IpAddr) -> Range {
    match ip {
        IpAddr::V4(v4) if v4.is_loopback() || v4.is_unspecified() => Range::Loopback,
        IpAddr::V4(v4) if v4.is_link_local() => Range::LinkLocal,
        IpAddr::V4(v4)
            if v4.is_private() || (v4.octets()[0] == 100 && v4.octets()[1] & 0xC0 == 64) =>
        {
            Range::Private
        }
        IpAddr::V6(v6) if v6.is_loopback() || v6.is_unspecified() => Range::Loopback,
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Range::LinkLocal,
        IpAddr::V6(v6) if v6.is_unique_local() => Range::Private,
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(Range::Public, |v4| range(IpAddr::V4(v4))),
        IpAddr::V4(_) => Range::Public,
    }
}

/// The ranges one feed may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reach {
    loopback: bool,
    private: bool,
    link_local: bool,
}

impl Reach {
    pub const PUBLIC: Reach = Reach {
        loopback: false,
        private: false,
        link_local: false,
    };
    pub const EVERYTHING: Reach = Reach {
        loopback: true,
        private: true,
        link_local: true,
    };

    /// What a feed configured at `url` may reach: public addresses and the ranges `url`
    /// itself lies in (everything with `allow_private`).
    pub async fn of_feed(url: &Url, allow_private: bool) -> Reach {
        if allow_private {
            return Reach::EVERYTHING;
        }
        ranges(url)
            .await
            .unwrap_or_default()
            .into_iter()
            .fold(Reach::PUBLIC, Reach::with)
    }

    fn with(mut self, range: Range) -> Reach {
        match range {
            Range::Public => {}
            Range::Loopback => self.loopback = true,
            Range::Private => self.private = true,
            Range::LinkLocal => self.link_local = true,
        }
        self
    }

    pub fn allows(self, range: Range) -> bool {
        match range {
            Range::Public => true,
            Range::Loopback => self.loopback,
            Range::Private => self.private,
            Range::LinkLocal => self.link_local,
        }
    }

    /// Whether a redirect to `url` stays within reach; `false` when any of its addresses
    /// does not (a name that does not resolve is left to the request to report).
    pub async fn admits(self, url: &Url) -> bool {
        self == Reach::EVERYTHING
            || ranges(url)
                .await
                .unwrap_or_default()
                .into_iter()
                .all(|r| self.allows(r))
    }
}

/// The ranges of the addresses `url`'s host names: literals as they are, names via DNS.
async fn ranges(url: &Url) -> std::io::Result<Vec<Range>> {
    let port = url.port_or_known_default().unwrap_or(80);
    let ips: Vec<IpAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
        Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
        Some(Host::Domain(name)) => tokio::net::lookup_host((name, port))
            .await?
            .map(|a| a.ip())
            .collect(),
        None => Vec::new(),
    };
    Ok(ips.into_iter().map(range).collect())
}

/// A resolver that answers only with public addresses, for feeds that may reach no others.
#[derive(Debug)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let all: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all
                .iter()
                .copied()
                .filter(|a| range(a.ip()) == Range::Public)
                .collect();
            if public.is_empty() && !all.is_empty() {
                return Err(format!(
                    "{} resolves to a private address (set allow_private for this feed)",
                    name.as_str()
                )
                .into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_fall_in_their_ranges() {
        let cases = [
            ("127.0.0.1", Range::Loopback),
            ("0.0.0.0", Range::Loopback),
            ("10.1.2.3", Range::Private),
            ("172.16.0.1", Range::Private),
            ("192.168.0.1", Range::Private),
            ("100.64.0.1", Range::Private),
            ("169.254.169.254", Range::LinkLocal),
            ("::1", Range::Loopback),
            ("fd00::1", Range::Private),
            ("fe80::1", Range::LinkLocal),
            ("::ffff:127.0.0.1", Range::Loopback),
            ("93.184.216.34", Range::Public),
            ("100.128.0.1", Range::Public),
            ("2001:db8::1", Range::Public),
        ];
        for (ip, expected) in cases {
            assert_eq!(range(ip.parse().expect("ip")), expected, "{ip}");
        }
    }

    #[tokio::test]
    async fn a_feed_reaches_public_addresses_and_its_own_range() {
        let url = |u: &str| Url::parse(u).expect("url");
        let local = Reach::of_feed(&url("http://127.0.0.1:8080/feed"), false).await;
        assert!(local.admits(&url("http://127.0.0.2/")).await);
        assert!(
            local.admits(&url("http://localhost/")).await,
            "resolved by name"
        );
        assert!(
            !local
                .admits(&url("http://169.254.169.254/latest/meta-data"))
                .await
        );
        assert!(!local.admits(&url("http://10.0.0.1/")).await);
        let public = Reach::of_feed(&url("http://93.184.216.34/"), false).await;
        assert_eq!(public, Reach::PUBLIC);
        assert!(!public.admits(&url("http://localhost:8080/")).await);
        assert!(!public.admits(&url("http://[::1]/")).await);
        let lan = Reach::of_feed(&url("http://192.168.1.5/"), true).await;
        assert!(lan.admits(&url("http://169.254.169.254/")).await);
    }

    #[tokio::test]
    async fn the_public_resolver_refuses_names_of_private_addresses() {
        let name: Name = "localhost".parse().expect("name");
        let err = match PublicOnly.resolve(name).await {
            Ok(addrs) => panic!("resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e.to_string(),
        };
        assert!(
            err.contains("localhost resolves to a private address"),
            "{err}"
        );
    }
}
