//! AWS partitions and the STS hosts each one has. This is the built-in allow-list that a
//! forwarded request's host must be on: exact names only, never a pattern or a suffix.

use std::fmt;
use std::str::FromStr;

/// An AWS partition: a separate set of regions with its own ARNs and endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partition {
    /// The commercial partition, `aws`.
    Aws,
    /// AWS GovCloud (US), `aws-us-gov`.
    AwsUsGov,
    /// AWS China, `aws-cn`.
    AwsCn,
}

/// Commercial regions with a regional STS endpoint `sts.<region>.amazonaws.com`.
const AWS_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// Commercial regions that also have a FIPS endpoint `sts-fips.<region>.amazonaws.com`.
const AWS_FIPS_REGIONS: &[&str] = &[
    "ca-central-1",
    "ca-west-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

const AWS_US_GOV_REGIONS: &[&str] = &["us-gov-east-1", "us-gov-west-1"];

const AWS_CN_REGIONS: &[&str] = &["cn-north-1", "cn-northwest-1"];

/// The commercial partition's global endpoint, served from `us-east-1`.
const AWS_GLOBAL_HOST: &str = "sts.amazonaws.com";

impl Partition {
    /// Every partition this build knows.
    pub const ALL: [Partition; 3] = [Partition::Aws, Partition::AwsUsGov, Partition::AwsCn];

    /// The name used in ARNs: `aws`, `aws-us-gov`, `aws-cn`.
    pub fn name(self) -> &'static str {
        match self {
            Partition::Aws => "aws",
            Partition::AwsUsGov => "aws-us-gov",
            Partition::AwsCn => "aws-cn",
        }
    }

    /// The region whose credential scope a request to `host` must carry, when `host` is
    /// exactly one of this partition's STS endpoints; `None` for anything else.
    ///
    /// Only exact, lower-case names match. A trailing dot, a port, an IP literal or a
    /// look-alike such as `sts.eu-central-1.amazonaws.com.evil.example` is no STS host.
    pub fn sts_region_for_host(self, host: &str) -> Option<&'static str> {
        match self {
            Partition::Aws => {
                if host == AWS_GLOBAL_HOST {
                    return Some("us-east-1");
                }
                let rest = host.strip_suffix(".amazonaws.com")?;
                if let Some(region) = rest.strip_prefix("sts-fips.") {
                    return find(AWS_FIPS_REGIONS, region);
                }
                find(AWS_REGIONS, rest.strip_prefix("sts.")?)
            }
            Partition::AwsUsGov => {
                let region = host.strip_prefix("sts.")?.strip_suffix(".amazonaws.com")?;
                find(AWS_US_GOV_REGIONS, region)
            }
            Partition::AwsCn => {
                let region = host
                    .strip_prefix("sts.")?
                    .strip_suffix(".amazonaws.com.cn")?;
                find(AWS_CN_REGIONS, region)
            }
        }
    }
}

fn find(regions: &[&'static str], candidate: &str) -> Option<&'static str> {
    regions.iter().copied().find(|region| *region == candidate)
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for a partition name this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown AWS partition (expected aws, aws-us-gov or aws-cn)")]
pub struct UnknownPartition;

impl FromStr for Partition {
    type Err = UnknownPartition;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Partition::ALL
            .into_iter()
            .find(|partition| partition.name() == name)
            .ok_or(UnknownPartition)
    }
}

#[cfg(test)]
mod tests {
    use super::Partition;

    #[test]
    fn exact_sts_hosts_map_to_their_region() {
        let aws = Partition::Aws;
        assert_eq!(
            aws.sts_region_for_host("sts.amazonaws.com"),
            Some("us-east-1")
        );
        assert_eq!(
            aws.sts_region_for_host("sts.eu-central-1.amazonaws.com"),
            Some("eu-central-1")
        );
        assert_eq!(
            aws.sts_region_for_host("sts-fips.us-west-2.amazonaws.com"),
            Some("us-west-2")
        );
        assert_eq!(
            Partition::AwsCn.sts_region_for_host("sts.cn-north-1.amazonaws.com.cn"),
            Some("cn-north-1")
        );
    }

    #[test]
    fn anything_but_an_exact_sts_host_is_refused() {
        for host in [
            "sts.eu-central-1.amazonaws.com.",
            "sts.eu-central-1.amazonaws.com.evil.example",
            "evil.sts.eu-central-1.amazonaws.com",
            "STS.eu-central-1.amazonaws.com",
            "sts.eu-central-9.amazonaws.com",
            "sts-fips.eu-central-1.amazonaws.com",
            "sts.us-gov-west-1.amazonaws.com",
            "sts.cn-north-1.amazonaws.com",
            "sts..amazonaws.com",
            "169.254.169.254",
            "sts.amazonaws.com:443",
            "",
        ] {
            assert_eq!(Partition::Aws.sts_region_for_host(host), None, "{host}");
        }
    }
}
