//! The head tag of a run record (`alb-rollout:run`), shared by a route's
//! record (`state_tags`) and a group's (`group_record`): who recorded the
//! run, and how many chunks each of the record's rewritten lists has now.
//!
//! A record's coded target list spans several tags (`KEY`, `KEY.1`, ...)
//! and is rewritten as the run goes (blue's targets leave batch by batch).
//! ELBv2 has no multi-call transaction: a rewrite is one AddTags with the
//! new chunks and this head, then one RemoveTags of the chunks the shorter
//! list no longer uses. A `kill -9` between the two leaves stale chunks.
//! The head says how many chunks are current, so the reader takes exactly
//! those and ignores the rest; the generation counts the rewrites (for
//! `status`, and so two heads of one run can be told apart).
//!
//! Format: `RUN-ID STRATEGY STARTED` (records of earlier versions, whose
//! lists are read up to the first missing chunk), then `gGEN`, `sN` (chunks
//! of the coded target set) and `zN` (chunks of its zones).

/// What the head tag says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub run_id: String,
    pub strategy: String,
    pub started: u64,
    /// 0 for the first write, one more for every rewrite of a list.
    pub generation: u32,
    /// Chunks of the coded target set and of its zones; `None` in records
    /// of earlier versions.
    pub chunks: Option<(usize, usize)>,
}

impl Head {
    pub fn encode(&self) -> String {
        let base = format!("{} {} {}", self.run_id, self.strategy, self.started);
        match self.chunks {
            Some((set, zones)) => format!("{base} g{} s{set} z{zones}", self.generation),
            None => base,
        }
    }

    /// `tag` names the key in errors.
    pub fn decode(value: &str, tag: &str) -> Result<Head, String> {
        let bad = || format!("tag {tag} is not `RUN-ID STRATEGY STARTED [gGEN sN zN]`: {value:?}");
        let words: Vec<&str> = value.split(' ').collect();
        let (run_id, strategy) = match words.as_slice() {
            [r, s, ..] => (r.to_string(), s.to_string()),
            _ => return Err(bad()),
        };
        let started = words.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        let num = |i: usize, p: char| -> Result<Option<u64>, String> {
            match words.get(i) {
                None => Ok(None),
                Some(w) => w
                    .strip_prefix(p)
                    .and_then(|n| n.parse().ok())
                    .map(Some)
                    .ok_or_else(bad),
            }
        };
        let (g, s, z) = (num(3, 'g')?, num(4, 's')?, num(5, 'z')?);
        let chunks = match (s, z) {
            (Some(s), Some(z)) => Some((s as usize, z as usize)),
            (None, None) => None,
            _ => return Err(bad()),
        };
        Ok(Head {
            run_id,
            strategy,
            started,
            generation: g.unwrap_or(0) as u32,
            chunks,
        })
    }
}

/// The values of `base`, `base.1`, ...: exactly `count` of them when the
/// head gives it (a missing one is damage), else up to the first gap.
pub fn chunks<'a>(
    tags: &'a std::collections::BTreeMap<String, String>,
    base: &str,
    count: Option<usize>,
) -> Result<Vec<&'a String>, String> {
    let key = |i: usize| match i {
        0 => base.to_string(),
        _ => format!("{base}.{i}"),
    };
    match count {
        None => Ok((0..).map_while(|i| tags.get(&key(i))).collect()),
        Some(n) => (0..n)
            .map(|i| {
                tags.get(&key(i))
                    .ok_or_else(|| format!("tag {} is missing (the head counts {n})", key(i)))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_head_round_trips_and_an_old_head_still_reads() {
        let h = Head {
            run_id: "r-1".into(),
            strategy: "canary".into(),
            started: 17,
            generation: 4,
            chunks: Some((3, 1)),
        };
        assert_eq!(h.encode(), "r-1 canary 17 g4 s3 z1");
        assert_eq!(Head::decode(&h.encode(), "t"), Ok(h));
        let old = Head::decode("r-1 canary 17", "t").unwrap();
        assert_eq!((old.generation, old.chunks), (0, None));
        assert!(Head::decode("r-1 canary 17 g4 s3", "t").is_err());
        assert!(Head::decode("r-1", "t").unwrap_err().contains("tag t"));
    }

    #[test]
    fn chunks_beyond_the_heads_count_are_ignored_and_a_missing_one_is_damage() {
        let tags: BTreeMap<String, String> = [("k", "a"), ("k.1", "b"), ("k.2", "stale")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(chunks(&tags, "k", Some(2)).unwrap(), vec!["a", "b"]);
        assert_eq!(chunks(&tags, "k", None).unwrap().len(), 3);
        assert!(chunks(&tags, "k", Some(4)).unwrap_err().contains("k.3"));
    }
}
