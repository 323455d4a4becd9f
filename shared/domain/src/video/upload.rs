//! How the browser uploads a video's bytes.

/// How the browser uploads: one presigned PUT, or a multipart upload with a URL per part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPlan {
    Single,
    Multipart { part_size: u64, parts: u32 },
}

pub const MIB: u64 = 1024 * 1024;
/// S3's smallest part (but the last) is 5 MiB; we use 8 MiB or more.
pub const MIN_PART: u64 = 8 * MIB;
/// S3's largest number of parts.
pub const MAX_PARTS: u64 = 10_000;

/// The upload plan for a file of `size` bytes: one PUT up to `threshold`, else parts of at least
/// 8 MiB (whole MiB), few enough for S3's 10 000-part limit.
pub fn upload_plan(size: u64, threshold: u64) -> UploadPlan {
    if size <= threshold {
        return UploadPlan::Single;
    }
    let by_count = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let part_size = by_count.max(MIN_PART);
    let parts = u32::try_from(size.div_ceil(part_size)).unwrap_or(u32::MAX);
    UploadPlan::Multipart { part_size, parts }
}

/// The exact length of part `part` (from 1) of a `size`-byte upload in parts of `part_size`: the
/// part size, the last part what is left; `None` for a part the upload does not have. Signed into
/// each part's URL, so S3 refuses a part of any other length.
pub fn part_length(size: u64, part_size: u64, part: u32) -> Option<u64> {
    let start = u64::from(part).checked_sub(1)?.checked_mul(part_size)?;
    (part_size > 0 && start < size).then(|| part_size.min(size - start))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_is_the_part_size_but_the_last_which_is_what_is_left() {
        let size = 20 * MIB + 5;
        let UploadPlan::Multipart { part_size, parts } = upload_plan(size, 16 * MIB) else { panic!("multipart") };
        let lengths: Vec<u64> = (1..=parts).filter_map(|p| part_length(size, part_size, p)).collect();
        assert_eq!(lengths, [8 * MIB, 8 * MIB, 4 * MIB + 5]);
        assert_eq!(lengths.iter().sum::<u64>(), size);
        assert_eq!(part_length(size, part_size, 0), None);
        assert_eq!(part_length(size, part_size, parts + 1), None);
        assert_eq!(part_length(16 * MIB, 8 * MIB, 2), Some(8 * MIB), "a last part may be whole");
        assert_eq!(part_length(16 * MIB, 0, 1), None);
        assert_eq!(part_length(u64::MAX, 8 * MIB, u32::MAX), Some(8 * MIB));
    }

    #[test]
    fn upload_plans_respect_s3_limits() {
        assert_eq!(upload_plan(10 * MIB, 64 * MIB), UploadPlan::Single);
        assert_eq!(upload_plan(20 * MIB, 16 * MIB), UploadPlan::Multipart { part_size: 8 * MIB, parts: 3 });
        match upload_plan(5 * 1024 * 1024 * MIB, 64 * MIB) {
            UploadPlan::Multipart { part_size, parts } => {
                assert!(u64::from(parts) <= MAX_PARTS && part_size >= MIN_PART && part_size % MIB == 0);
                assert!(part_size * u64::from(parts) >= 5 * 1024 * 1024 * MIB);
            }
            other => panic!("{other:?}"),
        }
    }
}
