//! The HTML report and its charts, as a CRO would open them: every chart renders to a
//! non-blank PNG and a well-formed SVG, an empty source gives a "no data" panel, and
//! the page loads in headless Chromium with no console errors and every chart present.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use revalign::run;

use crate::util::{copy_fixture, job, repo_path};

/// Variance of the grey levels of a PNG: 0 for a blank image.
fn png_variance(path: &Path) -> f64 {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let grey: Vec<f64> = bytes
        .chunks(channels)
        .map(|p| p.iter().take(3).map(|&v| v as f64).sum::<f64>() / 3.0)
        .collect();
    let mean = grey.iter().sum::<f64>() / grey.len() as f64;
    grey.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / grey.len() as f64
}

fn chart_keys() -> Vec<String> {
    let (_, catalogue) = revalign::charts::ChartCatalogue::load(None).unwrap();
    catalogue.charts.into_iter().map(|c| c.key).collect()
}

fn assert_well_formed_svg(svg: &str, what: &str) {
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{what}"
    );
    // Balanced elements: every opening tag that is not self-closed has its end tag.
    let opens = svg.matches("<text").count();
    let closes = svg.matches("</text>").count();
    assert_eq!(opens, closes, "{what}: <text> elements balanced");
    assert!(
        svg.contains("viewBox") || svg.contains("width=\""),
        "{what}: sized"
    );
}

/// Run the demo once per test binary and return its report folder.
async fn demo_report() -> &'static Path {
    static DIR: tokio::sync::OnceCell<(tempfile::TempDir, PathBuf)> =
        tokio::sync::OnceCell::const_new();
    let (_, dir) = DIR
        .get_or_init(|| async {
            let out = tempfile::tempdir().unwrap();
            let mut j = job(Path::new("."), out.path(), "2026-10");
            j.data = run::DataSource::Demo;
            let summary = run::run(&j).await.unwrap();
            (out, summary.report_dir)
        })
        .await;
    dir
}

#[tokio::test]
async fn every_chart_renders_from_the_demo() {
    let dir = demo_report().await;
    for key in chart_keys() {
        let png = dir.join(format!("charts/{key}.png"));
        let svg = std::fs::read_to_string(dir.join(format!("charts/{key}.svg"))).unwrap();
        let v = png_variance(&png);
        assert!(v > 100.0, "{key}.png looks blank (variance {v})");
        assert_well_formed_svg(&svg, &key);
        assert!(!svg.contains("no data"), "{key} has data on the demo");
    }
}

#[tokio::test]
async fn charts_of_empty_or_skipped_tables_say_no_data() {
    // The funnel fixture has no subscriptions (revenue charts skipped) and no
    // opportunity contacts; nothing may crash.
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let out = tempfile::tempdir().unwrap();
    let summary = run::run(&job(data.path(), out.path(), "2026-03"))
        .await
        .unwrap();
    let svg = std::fs::read_to_string(summary.report_dir.join("charts/mrr_bridge.svg")).unwrap();
    assert!(
        svg.contains("not measurable from these inputs: no `subscriptions` input"),
        "{svg}"
    );
    assert!(png_variance(&summary.report_dir.join("charts/mrr_bridge.png")) > 10.0);
    let svg =
        std::fs::read_to_string(summary.report_dir.join("charts/roi_maturation.svg")).unwrap();
    assert!(
        svg.contains("no `spend` input"),
        "the funnel fixture has no spend"
    );
    for key in chart_keys() {
        let svg =
            std::fs::read_to_string(summary.report_dir.join(format!("charts/{key}.svg"))).unwrap();
        assert_well_formed_svg(&svg, &key);
    }
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("which").arg(name).output().ok()?;
            out.status
                .success()
                .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        })
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut c = Command::new(browser);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// Run `command` to completion, as `Command::output`, but kill it (and its process
/// group: a browser starts helpers) and fail the test when it takes longer than
/// `limit`, so a hung program fails the test instead of hanging CI.
pub(crate) fn output_within(command: &mut Command, limit: Duration, what: &str) -> Output {
    use std::io::Read;
    use std::os::unix::process::CommandExt;
    let mut child = command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().expect("piped")));
    let stderr = read_all(Box::new(child.stderr.take().expect("piped")));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            // The whole group: the child was made its leader above.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: no result within {} s; killed", limit.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

/// How long one headless Chromium invocation may take: 60 s, or
/// `REVALIGN_BROWSER_TIMEOUT_SECS` (the tests below use a short one).
fn browser_timeout() -> Duration {
    let secs = std::env::var("REVALIGN_BROWSER_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// `REVALIGN_SKIP_BROWSER` set (to anything but empty or `0`) skips the browser test.
fn skip_browser() -> bool {
    std::env::var_os("REVALIGN_SKIP_BROWSER").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The headless Chromium to test with; `None` when `REVALIGN_SKIP_BROWSER` is set
/// (the test named `test` says it is skipped). A missing browser fails the test.
fn browser_for(test: &str) -> Option<PathBuf> {
    if skip_browser() {
        eprintln!("skipped: {test} (REVALIGN_SKIP_BROWSER is set)");
        return None;
    }
    let Some(browser) = chromium() else {
        panic!("headless Chromium not found: install the Debian package `chromium` (.ci/run does) or set REVALIGN_SKIP_BROWSER=1");
    };
    Some(browser)
}

/// The DOM Chromium builds from `page` (`--dump-dom`), asserting the browser succeeded.
fn dump_dom(browser: &Path, page: &Path) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let dom = output_within(
        headless(browser, profile.path())
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display())),
        browser_timeout(),
        "chromium --dump-dom",
    );
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    dom
}

#[tokio::test]
async fn the_report_loads_in_chromium_with_every_chart() {
    let Some(browser) = browser_for("the_report_loads_in_chromium_with_every_chart") else {
        return;
    };
    let dir = demo_report().await;
    let page = dir.join("index.html");
    let url = format!("file://{}", page.display());
    let dom = dump_dom(&browser, &page);
    let html = String::from_utf8_lossy(&dom.stdout);
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    for key in chart_keys() {
        let marker = format!("data-chart=\"{key}\"");
        let at = html
            .find(&marker)
            .unwrap_or_else(|| panic!("chart {key} missing from the page"));
        let figure = &html[at..html[at..].find("</figure>").map_or(html.len(), |e| at + e)];
        assert!(
            figure.contains("<svg"),
            "chart {key} has no inline SVG in the DOM"
        );
    }
    assert!(html.contains("Revenue scorecard"));

    // Screenshot: kept as a test artifact (target/report-screenshot.png).
    let shot = repo_path("target/report-screenshot.png");
    let _ = std::fs::remove_file(&shot);
    let profile = tempfile::tempdir().unwrap();
    let status = output_within(
        headless(&browser, profile.path())
            .arg(format!("--screenshot={}", shot.display()))
            .arg("--window-size=1280,2400")
            .arg("--hide-scrollbars")
            .arg(&url),
        browser_timeout(),
        "chromium --screenshot",
    );
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(png_variance(&shot) > 100.0, "the screenshot is blank");
}

#[tokio::test]
async fn an_analyst_adds_a_chart_in_toml() {
    let data = tempfile::tempdir().unwrap();
    copy_fixture("funnel", data.path());
    let reports = tempfile::tempdir().unwrap();
    std::fs::write(
        reports.path().join("charts.toml"),
        r#"
[[chart]]
key = "mqls_by_channel"
title = "MQLs by channel"
section = "marketing"
kind = "bars"
x_label = "Channel"
y_label = "MQLs"
sql = "SELECT channel AS x, SUM(mqls) AS y FROM funnel_monthly WHERE channel <> 'all' GROUP BY channel ORDER BY 2 DESC, 1"
how_to_read = "MQLs entering in the month by lead-source channel."
"#,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut j = job(data.path(), out.path(), "2026-03");
    j.reports = Some(reports.path().to_path_buf());
    let summary = run::run(&j).await.unwrap();
    let charts: Vec<String> = std::fs::read_dir(summary.report_dir.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut charts = charts;
    charts.sort();
    assert_eq!(charts, ["mqls_by_channel.png", "mqls_by_channel.svg"]);
    let svg =
        std::fs::read_to_string(summary.report_dir.join("charts/mqls_by_channel.svg")).unwrap();
    assert!(
        svg.contains("MQLs by channel") && svg.contains("email"),
        "{svg}"
    );
    let html = std::fs::read_to_string(summary.report_dir.join("index.html")).unwrap();
    assert!(html.contains("data-chart=\"mqls_by_channel\""));

    // A chart whose SQL is wrong fails the run with the chart named, before anything
    // is written.
    std::fs::write(
        reports.path().join("charts.toml"),
        "[[chart]]\nkey = \"broken\"\ntitle = \"t\"\nsection = \"sales\"\nkind = \"bars\"\nsql = \"SELECT nope FROM funnel_monthly\"\nhow_to_read = \"-\"\n",
    )
    .unwrap();
    let err = run::run(&j).await.unwrap_err().to_string();
    assert!(err.contains("chart `broken`"), "{err}");
}

/// Run the browser test in a child process of this test binary, with a fake
/// `chromium` (a shell script) first on the PATH and the given environment.
fn browser_test_with_fake_chromium(script: &str, env: &[(&str, Option<&str>)]) -> Output {
    use std::os::unix::fs::PermissionsExt;
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("chromium");
    std::fs::write(&fake, script).unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let test = format!(
        "{}::the_report_loads_in_chromium_with_every_chart",
        module_path!()
            .split_once("::")
            .map_or(module_path!(), |(_, m)| m)
    );
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env("PATH", path);
    for (key, value) in env {
        match value {
            Some(v) => child.env(key, v),
            None => child.env_remove(key),
        };
    }
    output_within(&mut child, Duration::from_secs(300), "the browser test")
}

#[test]
fn skip_browser_is_honoured_even_when_chromium_is_installed() {
    let out = browser_test_with_fake_chromium(
        "#!/bin/sh\necho 'the fake chromium was started' >&2\nexit 1\n",
        &[("REVALIGN_SKIP_BROWSER", Some("1"))],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("1 passed"), "the test ran: {stdout}");
    assert!(
        stderr.contains("skipped: the_report_loads_in_chromium_with_every_chart"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("the fake chromium was started"),
        "{stderr}"
    );
}

#[test]
fn a_hung_browser_fails_the_test_instead_of_hanging() {
    let started = Instant::now();
    let out = browser_test_with_fake_chromium(
        "#!/bin/sh\nexec sleep 600\n",
        &[
            ("REVALIGN_SKIP_BROWSER", None),
            ("REVALIGN_BROWSER_TIMEOUT_SECS", Some("2")),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}\n{stderr}");
    assert!(
        format!("{stdout}{stderr}").contains("chromium --dump-dom: no result within 2 s; killed"),
        "{stdout}\n{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(240));
}

/// A partial export's report, as the browser shows it: the unmeasurable scorecard rows
/// read n/a with their reason, and the coverage section lists them.
#[tokio::test]
async fn the_browser_shows_what_a_partial_export_cannot_measure() {
    let Some(browser) = browser_for("the_browser_shows_what_a_partial_export_cannot_measure")
    else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let summary = run::run(&job(
        &crate::util::fixture("partial_leads_won"),
        out.path(),
        "2026-03",
    ))
    .await
    .unwrap();
    let dom = dump_dom(&browser, &summary.report_dir.join("index.html"));
    let html = String::from_utf8_lossy(&dom.stdout);
    let row = html
        .split("<tr>")
        .skip(1)
        .find(|r| r.contains("Win rate, new business"))
        .expect("win rate row in the scorecard table");
    assert!(
        row.contains("<td>n/a</td>")
            && row.contains("<span class=\"rag na\">n/a</span>")
            && row.contains("not measurable from these inputs: no lost new-business opportunities"),
        "{row}"
    );
    let coverage = &html[html.find("id=\"coverage\"").expect("coverage section")..];
    assert!(coverage.contains("What these inputs can and cannot tell"));
    assert!(coverage.contains("Chart · MQL follow-up"));
    assert!(coverage.contains("Warning: touches end 2025-12-17"));
}
