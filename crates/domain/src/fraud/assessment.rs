//! Scoring a conversion for signs that the affiliate referred themselves.

use super::{email_domain, is_free_email_domain, normalize_email};

// Points per signal; the total is capped at MAX_SCORE.
const EMAIL_MATCH_POINTS: u8 = 100;
const EMAIL_DOMAIN_MATCH_POINTS: u8 = 40;
const IP_MATCH_POINTS: u8 = 30;
const DEVICE_MATCH_POINTS: u8 = 30;
/// Highest possible score.
pub const MAX_SCORE: u8 = 100;

/// One piece of evidence that customer and affiliate are the same party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FraudSignal {
    /// The normalized email addresses are equal.
    EmailMatch,
    /// Both addresses share a non-free (company) domain.
    EmailDomainMatch,
    /// The customer's IP was seen for the affiliate.
    IpMatch,
    /// The customer's device fingerprint was seen for the affiliate.
    DeviceMatch,
}

impl FraudSignal {
    /// Stable text form, e.g. `"email_match"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FraudSignal::EmailMatch => "email_match",
            FraudSignal::EmailDomainMatch => "email_domain_match",
            FraudSignal::IpMatch => "ip_match",
            FraudSignal::DeviceMatch => "device_match",
        }
    }
}

/// How worrying a score is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RiskLevel {
    /// Score 0–40.
    Low,
    /// Score 41–69.
    Medium,
    /// Score 70–100.
    High,
}

impl RiskLevel {
    /// Stable text form: `"low"`, `"medium"` or `"high"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    /// The level of a score.
    pub fn from_score(score: u8) -> RiskLevel {
        match score {
            0..=40 => RiskLevel::Low,
            41..=69 => RiskLevel::Medium,
            _ => RiskLevel::High,
        }
    }
}

/// What is known about the customer of a conversion and the affiliate credited.
#[derive(Debug, Clone, Copy)]
pub struct SelfReferralInput<'a> {
    /// Customer email as received.
    pub customer_email: &'a str,
    /// Affiliate account email.
    pub affiliate_email: &'a str,
    /// Customer IP at checkout, if known.
    pub customer_ip: Option<&'a str>,
    /// Customer device fingerprint, if known.
    pub customer_device: Option<&'a str>,
    /// IPs the affiliate has used.
    pub affiliate_ips: &'a [String],
    /// Device fingerprints the affiliate has used.
    pub affiliate_devices: &'a [String],
}

/// The result of [`assess_self_referral`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FraudAssessment {
    /// 0–100; the sum of signal points, capped.
    pub score: u8,
    /// Signals found, in evaluation order (email, domain, IP, device).
    pub signals: Vec<FraudSignal>,
}

impl FraudAssessment {
    /// The risk level of the score.
    pub fn level(&self) -> RiskLevel {
        RiskLevel::from_score(self.score)
    }

    /// Whether any signal fired.
    pub fn is_flagged(&self) -> bool {
        self.score > 0
    }
}

/// Scores a conversion for self-referral.
///
/// Equal normalized emails add 100; otherwise a shared domain that is not a
/// free provider adds 40 (colleagues at one company are suspicious, two Gmail
/// users are not). A customer IP or device also seen for the affiliate adds 30
/// each. The score is capped at 100. Blank values never match, so missing data
/// cannot look like a match.
pub fn assess_self_referral(input: &SelfReferralInput<'_>) -> FraudAssessment {
    let mut signals = Vec::new();
    let customer = normalize_email(input.customer_email);
    let affiliate = normalize_email(input.affiliate_email);

    if !customer.is_empty() && customer == affiliate {
        signals.push(FraudSignal::EmailMatch);
    } else if let (Some(a), Some(b)) = (email_domain(&customer), email_domain(&affiliate)) {
        if a == b && !is_free_email_domain(a) {
            signals.push(FraudSignal::EmailDomainMatch);
        }
    }
    if seen(input.customer_ip, input.affiliate_ips) {
        signals.push(FraudSignal::IpMatch);
    }
    if seen(input.customer_device, input.affiliate_devices) {
        signals.push(FraudSignal::DeviceMatch);
    }

    let total: u32 = signals.iter().map(|s| u32::from(points(*s))).sum();
    let score = u8::try_from(total.min(u32::from(MAX_SCORE))).unwrap_or(MAX_SCORE);
    FraudAssessment { score, signals }
}

fn points(signal: FraudSignal) -> u8 {
    match signal {
        FraudSignal::EmailMatch => EMAIL_MATCH_POINTS,
        FraudSignal::EmailDomainMatch => EMAIL_DOMAIN_MATCH_POINTS,
        FraudSignal::IpMatch => IP_MATCH_POINTS,
        FraudSignal::DeviceMatch => DEVICE_MATCH_POINTS,
    }
}

fn seen(value: Option<&str>, known: &[String]) -> bool {
    value.map(str::trim).filter(|v| !v.is_empty()).is_some_and(|v| known.iter().any(|k| k.trim() == v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(customer: &'a str, affiliate: &'a str) -> SelfReferralInput<'a> {
        SelfReferralInput {
            customer_email: customer,
            affiliate_email: affiliate,
            customer_ip: None,
            customer_device: None,
            affiliate_ips: &[],
            affiliate_devices: &[],
        }
    }

    #[test]
    fn identical_normalized_email_is_high() {
        let a = assess_self_referral(&input("J.Doe+shop@googlemail.com", "jdoe@gmail.com"));
        assert_eq!(a.signals, [FraudSignal::EmailMatch]);
        assert_eq!(a.score, 100);
        assert_eq!(a.level(), RiskLevel::High);
        assert!(a.is_flagged());
    }

    #[test]
    fn shared_company_domain_but_not_free_domain() {
        let a = assess_self_referral(&input("bob@Acme.io", "alice@acme.io"));
        assert_eq!(a.signals, [FraudSignal::EmailDomainMatch]);
        assert_eq!(a.score, 40);
        assert_eq!(a.level(), RiskLevel::Low);
        assert!(a.is_flagged());

        let a = assess_self_referral(&input("bob@gmail.com", "alice@gmail.com"));
        assert!(a.signals.is_empty());
        assert_eq!(a.score, 0);
        assert!(!a.is_flagged());
    }

    #[test]
    fn ip_and_device_add_up_and_cap() {
        let ips = vec!["10.0.0.1".to_string(), "10.0.0.2".to_string()];
        let devices = vec!["dev-1".to_string()];
        let mut i = input("bob@acme.io", "alice@acme.io");
        i.customer_ip = Some("10.0.0.2");
        i.customer_device = Some("dev-1");
        i.affiliate_ips = &ips;
        i.affiliate_devices = &devices;
        let a = assess_self_referral(&i);
        assert_eq!(
            a.signals,
            [FraudSignal::EmailDomainMatch, FraudSignal::IpMatch, FraudSignal::DeviceMatch]
        );
        assert_eq!(a.score, 100);

        i.customer_email = "same@acme.io";
        i.affiliate_email = "same@acme.io";
        let a = assess_self_referral(&i);
        assert_eq!(a.signals, [FraudSignal::EmailMatch, FraudSignal::IpMatch, FraudSignal::DeviceMatch]);
        assert_eq!(a.score, 100);

        i.customer_email = "x@gmail.com";
        i.customer_device = None;
        let a = assess_self_referral(&i);
        assert_eq!(a.signals, [FraudSignal::IpMatch]);
        assert_eq!(a.score, 30);
    }

    #[test]
    fn blank_values_never_match() {
        let blanks = vec![String::new()];
        let mut i = input("", "");
        i.customer_ip = Some("");
        i.customer_device = Some(" ");
        i.affiliate_ips = &blanks;
        i.affiliate_devices = &blanks;
        let a = assess_self_referral(&i);
        assert!(a.signals.is_empty());
    }

    #[test]
    fn levels_and_names() {
        assert_eq!(RiskLevel::from_score(0), RiskLevel::Low);
        assert_eq!(RiskLevel::from_score(40), RiskLevel::Low);
        assert_eq!(RiskLevel::from_score(41), RiskLevel::Medium);
        assert_eq!(RiskLevel::from_score(69), RiskLevel::Medium);
        assert_eq!(RiskLevel::from_score(70), RiskLevel::High);
        assert_eq!(RiskLevel::from_score(100), RiskLevel::High);
        assert_eq!(RiskLevel::Medium.as_str(), "medium");
        let names: Vec<_> = [
            FraudSignal::EmailMatch,
            FraudSignal::EmailDomainMatch,
            FraudSignal::IpMatch,
            FraudSignal::DeviceMatch,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        assert_eq!(names, ["email_match", "email_domain_match", "ip_match", "device_match"]);
    }
}
