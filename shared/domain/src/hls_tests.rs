use super::*;

const Q: &str = "Policy=eyJ9&Signature=c2ln&Key-Pair-Id=K2JCJMDEHXQW5F&Hash-Algorithm=SHA256";
const CDN: &str = "https://media.example.com";

fn signing(video: &VideoId) -> Signing<'_> {
    Signing { video, cdn_url: CDN, query: Q }
}

fn master_key(video: &VideoId) -> String {
    format!("media/{video}/hls/index.m3u8")
}

#[test]
fn only_the_names_the_transcode_and_the_captions_write_are_playlists() {
    for ok in ["index.m3u8", "index_720p.m3u8", "index_thumb.m3u8", "captioned-12.m3u8", "captions-de-CH.m3u8"] {
        let name: PlaylistName = ok.parse().unwrap_or_else(|e: Invalid| panic!("{ok}: {}", e.0));
        assert_eq!(name.to_string(), ok);
    }
    for bad in [
        "",
        "index",
        "index.m3u",
        "../index.m3u8",
        "..%2Findex.m3u8",
        "hls/index.m3u8",
        "index_.m3u8",
        "index_a/b.m3u8",
        "index_..m3u8",
        "index_720p.ts",
        "other.m3u8",
        "captioned-.m3u8",
        "captioned-1a.m3u8",
        "captions-x.m3u8",
        "captions-en/../x.m3u8",
        "index_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.m3u8",
    ] {
        assert!(bad.parse::<PlaylistName>().is_err(), "{bad:?} is refused");
    }
}

#[test]
fn a_name_stands_for_one_key_of_its_video_and_back() {
    let v = VideoId::generate();
    for name in ["index.m3u8", "index_360p.m3u8", "captioned-3.m3u8", "captions-en.m3u8"] {
        let n: PlaylistName = name.parse().expect("a name");
        assert_eq!(PlaylistName::of_key(&v, &n.key(&v)), Some(n.clone()), "{name}");
    }
    assert_eq!(
        "captions-en.m3u8".parse::<PlaylistName>().map(|n| n.key(&v)),
        Ok(format!("media/{v}/captions/en.m3u8"))
    );
    assert_eq!(PlaylistName::of_key(&v, &format!("media/{v}/hls/index_360p_00001.ts")), None);
    assert_eq!(PlaylistName::of_key(&v, &format!("media/{}/hls/index.m3u8", VideoId::generate())), None);
    assert_eq!(PlaylistName::of_key(&v, &format!("media/{v}/captions/EN.m3u8")), None, "not a key Lang writes");
    assert_eq!(playlist_path(&v, &PlaylistName::Hls("index.m3u8".into())), format!("/videos/{v}/hls/index.m3u8"));
}

#[test]
fn a_master_names_its_variants_on_the_route_and_its_media_on_the_cdn_each_with_the_grant() {
    let v = VideoId::generate();
    let master = "#EXTM3U\n#EXT-X-VERSION:7\n\
        #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"../captions/en.m3u8\"\n\
        #EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\n\
        index_360p.m3u8\n\
        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"index_360p_iframe.m3u8\"\n\
        #EXT-X-IMAGE-STREAM-INF:BANDWIDTH=12000,RESOLUTION=1600x900,CODECS=\"jpeg\",URI=\"index_thumb.m3u8\"\n\
        #EXT-X-SESSION-DATA:DATA-ID=\"com.example.chapters\",URI=\"../chapters.json\"\n";
    let out = sign_playlist(master, &master_key(&v), &signing(&v)).expect("signed");
    let want = format!(
        "#EXTM3U\n#EXT-X-VERSION:7\n\
        #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"captions-en.m3u8?{Q}\"\n\
        #EXT-X-STREAM-INF:BANDWIDTH=1000000,RESOLUTION=640x360,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\n\
        index_360p.m3u8?{Q}\n\
        #EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI=\"index_360p_iframe.m3u8?{Q}\"\n\
        #EXT-X-IMAGE-STREAM-INF:BANDWIDTH=12000,RESOLUTION=1600x900,CODECS=\"jpeg\",URI=\"index_thumb.m3u8?{Q}\"\n\
        #EXT-X-SESSION-DATA:DATA-ID=\"com.example.chapters\",URI=\"{CDN}/media/{v}/chapters.json?{Q}\"\n"
    );
    assert_eq!(out, want);
}

#[test]
fn a_media_playlist_names_its_segments_init_and_key_on_the_cdn_keeping_tags_and_comments() {
    let v = VideoId::generate();
    let text = "#EXTM3U\r\n# a comment naming index.ts stays\r\n#EXT-X-TARGETDURATION:4\r\n\
        #EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\r\n\
        #EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1.bin\",IV=0x1\r\n\
        #EXT-X-KEY:METHOD=SAMPLE-AES,KEYFORMAT=\"com.apple.streamingkeydelivery\",URI=\"skd://key-1\"\r\n\
        #EXTINF:4.000,\r\n./index_360p_00001.ts\r\n#EXTINF:2.5,\r\nhttps://elsewhere.example/x.ts\r\n\r\n#EXT-X-ENDLIST";
    let key = format!("media/{v}/hls/index_360p.m3u8");
    let out = sign_playlist(text, &key, &signing(&v)).expect("signed");
    let cdn = format!("{CDN}/media/{v}/hls");
    let want = format!(
        "#EXTM3U\r\n# a comment naming index.ts stays\r\n#EXT-X-TARGETDURATION:4\r\n\
        #EXT-X-MAP:URI=\"{cdn}/init.mp4?{Q}\",BYTERANGE=\"720@0\"\r\n\
        #EXT-X-KEY:METHOD=AES-128,URI=\"{cdn}/keys/k1.bin?{Q}\",IV=0x1\r\n\
        #EXT-X-KEY:METHOD=SAMPLE-AES,KEYFORMAT=\"com.apple.streamingkeydelivery\",URI=\"skd://key-1\"\r\n\
        #EXTINF:4.000,\r\n{cdn}/index_360p_00001.ts?{Q}\r\n#EXTINF:2.5,\r\nhttps://elsewhere.example/x.ts\r\n\r\n#EXT-X-ENDLIST"
    );
    assert_eq!(out, want);
}

#[test]
fn a_caption_playlist_names_its_webvtt_file_and_keeps_a_query_and_a_fragment_of_its_own() {
    let v = VideoId::generate();
    let key = format!("media/{v}/captions/en.m3u8");
    let text = "#EXTM3U\n#EXTINF:10.0,\nen.vtt\n#EXTINF:1,\nen.vtt?part=2#frag\n";
    let out = sign_playlist(text, &key, &signing(&v)).expect("signed");
    let base = format!("{CDN}/media/{v}/captions/en.vtt");
    assert_eq!(out, format!("#EXTM3U\n#EXTINF:10.0,\n{base}?{Q}\n#EXTINF:1,\n{base}?part=2&{Q}#frag\n"));
}

#[test]
fn an_attribute_that_only_ends_in_uri_is_not_a_uri() {
    let v = VideoId::generate();
    let tag = "#EXT-X-DATERANGE:ID=\"a\",X-COM-EXAMPLE-URI=\"keep.json\",URI=\"x.json\"\n";
    let out = sign_playlist(tag, &master_key(&v), &signing(&v)).expect("signed");
    assert_eq!(
        out,
        format!("#EXT-X-DATERANGE:ID=\"a\",X-COM-EXAMPLE-URI=\"keep.json\",URI=\"{CDN}/media/{v}/hls/x.json?{Q}\"\n")
    );
}

#[test]
fn a_reference_out_of_the_videos_media_is_refused() {
    let v = VideoId::generate();
    for uri in [
        "../../other/hls/index.m3u8",
        "../../../../etc/passwd",
        "#EXT-X-MAP:URI=\"../../x/init.mp4\"",
        "/absolute/path.ts",
        "//elsewhere.example/x.ts",
        "#EXT-X-MAP:URI=\"/media/init.mp4\"",
    ] {
        let text = format!("#EXTM3U\n{uri}\n");
        assert!(
            matches!(sign_playlist(&text, &master_key(&v), &signing(&v)), Err(RewriteError::OutsideVideo { .. })),
            "{uri}"
        );
    }
}

#[test]
fn a_playlist_is_kept_no_longer_than_its_grant() {
    assert_eq!(cache_secs(1_000, 900), 100);
    assert_eq!(cache_secs(100_000, 900), MAX_CACHE_SECS);
    assert_eq!(cache_secs(900, 1_000), 0);
}

#[test]
fn the_master_a_player_is_given_is_on_the_route_with_the_grant() {
    let v = VideoId::generate();
    let mut outputs = crate::video::MediaOutputs { hls_master: Some(master_key(&v)), ..Default::default() };
    let api = Some("https://api.example.com/");
    assert_eq!(
        master_url(api, &v, &outputs, Q),
        Some(format!("https://api.example.com/videos/{v}/hls/index.m3u8?{Q}"))
    );
    outputs.captioned_master = Some(format!("media/{v}/hls/captioned-2.m3u8"));
    assert_eq!(
        master_url(api, &v, &outputs, Q),
        Some(format!("https://api.example.com/videos/{v}/hls/captioned-2.m3u8?{Q}"))
    );
    assert_eq!(master_url(None, &v, &outputs, Q), None, "no origin, no URL");
    assert_eq!(master_url(api, &v, &Default::default(), Q), None, "no master, no URL");
}

/// The value of `key:` in the block of template parameter `name` (template/base/parameters.yaml).
fn template_parameter(name: &str, key: &str) -> u64 {
    let params = include_str!("../../../template/base/parameters.yaml");
    let block = params.split(&format!("\n  {name}:\n")).nth(1).expect("the parameter");
    let line = block
        .lines()
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| l.trim().strip_prefix(&format!("{key}:")))
        .expect("the key");
    line.trim().parse().expect("a number")
}

#[test]
fn the_longest_lectures_signed_rendition_playlist_fits_a_lambda_response() {
    // Lambda answers at most 6 MB (6,291,456 bytes) for the whole response as the runtime sends it:
    // the body as a JSON string (each newline written `\n`) beside the status and headers.
    const LAMBDA_RESPONSE_BYTES: usize = 6 * 1024 * 1024;
    const ENVELOPE_BYTES: usize = 4 * 1024;
    let longest = template_parameter("MaxLectureSeconds", "MaxValue");
    let host = template_parameter("MediaDomainName", "MaxLength") as usize;
    // MediaConvert cuts 6 s segments on 2 s GOPs (shared/adapters/mediaconvert): one more for the
    // tail; the widest rendition name the route serves; the longest MediaDomainName; a 2048-bit
    // signature; a key pair id longer than CloudFront's 14 characters.
    let segments = longest.div_ceil(6) + 1;
    let v = VideoId::generate();
    let cdn = format!("https://{}", "m".repeat(host));
    let policy = format!(
        r#"{{"Statement":[{{"Resource":"{cdn}/media/{v}/*","Condition":{{"DateLessThan":{{"AWS:EpochTime":9999999999}}}}}}]}}"#
    );
    let b64 = |n: usize| "A".repeat(n.div_ceil(3) * 4);
    let query = format!(
        "Policy={}&Signature={}&Key-Pair-Id={}&Hash-Algorithm=SHA256",
        b64(policy.len()),
        b64(256),
        "K".repeat(32)
    );
    let modifier = "r".repeat(MAX_MODIFIER);
    let mut text = String::from("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    for n in 1..=segments {
        text.push_str(&format!("#EXTINF:6.000000,\nindex_{modifier}_{n:05}.ts\n"));
    }
    text.push_str("#EXT-X-ENDLIST\n");
    let key = format!("media/{v}/hls/index_{modifier}.m3u8");
    let signing = Signing { video: &v, cdn_url: &cdn, query: &query };
    let signed = sign_playlist(&text, &key, &signing).expect("signed");
    let sent = serde_json::to_string(&signed).expect("a JSON string").len() + ENVELOPE_BYTES;
    assert!(
        sent <= LAMBDA_RESPONSE_BYTES,
        "{segments} segments of a {longest} s lecture: {sent} bytes, over {LAMBDA_RESPONSE_BYTES}"
    );
    eprintln!("{segments} segments of a {longest} s lecture, {host}-character host: {sent} bytes as sent");
}
