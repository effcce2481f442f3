//! The AWS adapter's DescribeTags: one resource's tags, or those of up to
//! 20 resources in one call (the port's `tags_batch`).

use super::AwsLoadBalancer;
use crate::alb::port::AlbResult;
use std::collections::BTreeMap;

impl AwsLoadBalancer {
    /// DescribeTags of one resource.
    pub(super) async fn read_tags(&self, arn: &str) -> AlbResult<BTreeMap<String, String>> {
        let out = self
            .client
            .describe_tags()
            .resource_arns(arn)
            .send()
            .await
            .map_err(|e| self.fail("DescribeTags", Some(arn), e))?;
        Ok(out
            .tag_descriptions()
            .iter()
            .flat_map(|d| d.tags())
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect())
    }

    /// DescribeTags of up to 20 resources, by ARN (none for one without tags).
    pub(super) async fn read_tags_batch(
        &self,
        arns: &[String],
    ) -> AlbResult<BTreeMap<String, BTreeMap<String, String>>> {
        let out = self
            .client
            .describe_tags()
            .set_resource_arns(Some(arns.to_vec()))
            .send()
            .await
            .map_err(|e| self.fail("DescribeTags", Some(&arns.join(",")), e))?;
        let mut tags: BTreeMap<String, BTreeMap<String, String>> = (arns.iter())
            .map(|a| (a.clone(), BTreeMap::new()))
            .collect();
        for d in out.tag_descriptions() {
            let of = tags
                .entry(d.resource_arn().unwrap_or_default().to_string())
                .or_default();
            of.extend(d.tags().iter().map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            }));
        }
        Ok(tags)
    }
}
