//! Cold start of the function binaries, against a small Lambda Runtime API emulator of ours.
//!
//! For each binary given, `--runs` times: bind a free port on 127.0.0.1, exec the binary
//! with the environment Lambda gives a function (the runtime API's address, the function's
//! name, memory, version, log group and stream, the region, dummy role credentials) plus
//! the function's own configuration from template.yaml (Globals and its own variables,
//! parameters at their defaults), and time exec → its first
//! `GET /2018-06-01/runtime/invocation/next` (the end of init); then kill it. Prints a
//! markdown table: median, min and max per function, and the median CPU time init took
//! (its threads' time on a CPU, which a busy machine does not inflate).
//!
//! With `--strace`, each binary also runs once under `strace -f -e trace=connect`: the only
//! network connect init may make is to the runtime API (anything else, such as instance
//! metadata or an STS endpoint, fails the run); local (`AF_UNIX`) connects are listed.
//!
//! Usage: `coldstart [--runs N] [--target-ms MS] [--strace] [--template PATH] BINARY...`; a
//! binary's function is the template resource whose `Binary:` is its file name. With a
//! target, a column says whether each median meets it.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// How long init may take before a run counts as failed.
const INIT_TIMEOUT: Duration = Duration::from_secs(20);

/// The runtime API's "next invocation" path: its first request is the end of init.
const NEXT: &str = "/2018-06-01/runtime/invocation/next";

fn main() -> anyhow::Result<()> {
    let mut runs = 20usize;
    let mut strace = false;
    let mut target_ms: Option<f64> = None;
    let mut template = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"));
    let mut binaries = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--runs" => runs = args.next().context("--runs N")?.parse()?,
            "--strace" => strace = true,
            "--target-ms" => target_ms = Some(args.next().context("--target-ms MS")?.parse()?),
            "--template" => template = args.next().context("--template PATH")?.into(),
            _ => binaries.push(PathBuf::from(arg)),
        }
    }
    if binaries.is_empty() || runs == 0 {
        bail!(
            "usage: coldstart [--runs N] [--target-ms MS] [--strace] [--template PATH] BINARY..."
        );
    }
    let template = Template::read(&template)?;

    println!("| Function | Median | Min | Max | Runs | Target | CPU (median) | Network at init |");
    println!("|---|---:|---:|---:|---:|---|---:|---|");
    let mut failures = Vec::new();
    for binary in &binaries {
        let name = binary
            .file_name()
            .and_then(|n| n.to_str())
            .context("binary file name")?
            .to_owned();
        let env = template.environment(&name)?;
        let mut times = Vec::with_capacity(runs);
        let mut cpu = Vec::with_capacity(runs);
        for _ in 0..runs {
            let (wall, on_cpu) =
                time_init(binary, &name, &env).with_context(|| format!("{name}: cold start"))?;
            times.push(wall);
            cpu.push(on_cpu);
        }
        times.sort();
        cpu.sort();
        let network = if strace {
            let report =
                connects_at_init(binary, &name, &env).with_context(|| format!("{name}: strace"))?;
            if !report.foreign.is_empty() {
                failures.push(format!("{name}: {}", report.foreign.join("; ")));
            }
            report.summary()
        } else {
            "not checked".to_owned()
        };
        let median = times[times.len() / 2];
        let target = match target_ms {
            Some(target) if median.as_secs_f64() * 1000.0 <= target => "met",
            Some(_) => "missed",
            None => "-",
        };
        println!(
            "| {} | {} | {} | {} | {} | {target} | {} | {network} |",
            name.trim_start_matches("huddle-"),
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1]),
            times.len(),
            ms(cpu[cpu.len() / 2]),
        );
    }
    if !failures.is_empty() {
        bail!("network calls at init: {}", failures.join(" | "));
    }
    Ok(())
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

/// One cold start: exec → the first "next invocation" request, and the time the process's
/// threads spent on a CPU until then (what init costs, whatever else the machine runs).
fn time_init(
    binary: &Path,
    name: &str,
    env: &[(String, String)],
) -> anyhow::Result<(Duration, Duration)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let mut command = Command::new(binary);
    lambda_environment(&mut command, name, &address.to_string(), env);
    let started = Instant::now();
    let child = command.spawn().context("exec")?;
    let mut child = Killed(child);
    let elapsed = wait_for_next(&listener, &mut child.0, started)?;
    let on_cpu = cpu_time(child.0.id())?;
    Ok((elapsed, on_cpu))
}

/// The time all of a process's threads have spent on a CPU (`/proc/PID/task/*/schedstat`,
/// whose first field is nanoseconds on a CPU).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .next()
            .and_then(|ns| ns.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Ok(Duration::from_nanos(total))
}

/// A child that is killed (and reaped) when dropped, whatever happened meanwhile.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for the "next invocation" request on `listener`, the time since `started`. Fails
/// if the child exits first or the timeout passes.
fn wait_for_next(
    listener: &TcpListener,
    child: &mut Child,
    started: Instant,
) -> anyhow::Result<Duration> {
    listener.set_nonblocking(true)?;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Some(path) = request_path(stream)?
                    && path.starts_with(NEXT)
                {
                    return Ok(started.elapsed());
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                if let Some(status) = child.try_wait()? {
                    bail!("exited during init ({status})");
                }
                if started.elapsed() > INIT_TIMEOUT {
                    bail!("no request to the runtime API within {INIT_TIMEOUT:?}");
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(error) => return Err(error.into()),
        }
    }
}

/// The path of the request on `stream` (its request line), if it sends one.
fn request_path(stream: TcpStream) -> anyhow::Result<Option<String>> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(INIT_TIMEOUT))?;
    let mut line = String::new();
    BufReader::new(stream.take(8192)).read_line(&mut line)?;
    Ok(line.split_whitespace().nth(1).map(str::to_owned))
}

/// What Lambda's environment holds for a function, then the function's own variables.
fn lambda_environment(command: &mut Command, name: &str, api: &str, env: &[(String, String)]) {
    command
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "en_US.UTF-8")
        .env("TZ", ":UTC")
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef",
        )
        .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "ASIACOLDSTARTEXAMPLE")
        .env(
            "AWS_SECRET_ACCESS_KEY",
            "coldstart/example/secret/access/key/0000",
        )
        .env("AWS_SESSION_TOKEN", "coldstart-example-session-token")
        .env("_HANDLER", "bootstrap")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
}

/// The connects one init made, from strace.
struct Connects {
    /// Connects to the runtime API (expected).
    runtime_api: usize,
    /// Local-socket connects (nscd and the like), by path.
    local: Vec<String>,
    /// Any other network connect: a failure.
    foreign: Vec<String>,
}

impl Connects {
    fn summary(&self) -> String {
        let mut summary = if self.foreign.is_empty() {
            format!("none (runtime API only: {} connect)", self.runtime_api)
        } else {
            format!("**{}**", self.foreign.join("; "))
        };
        if !self.local.is_empty() {
            summary.push_str(&format!("; AF_UNIX: {}", self.local.join(", ")));
        }
        summary
    }
}

/// Runs the binary once under strace until its first "next invocation" request, and sorts
/// the connects it made.
fn connects_at_init(
    binary: &Path,
    name: &str,
    env: &[(String, String)],
) -> anyhow::Result<Connects> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let trace =
        std::env::temp_dir().join(format!("coldstart-{}-{name}.strace", std::process::id()));
    let mut command = Command::new("strace");
    command
        .arg("-f")
        .arg("-qq")
        .arg("-e")
        .arg("trace=connect")
        .arg("-o")
        .arg(&trace);
    command.arg(binary);
    lambda_environment(&mut command, name, &address.to_string(), env);
    let child = command.spawn().context("exec strace (is it installed?)")?;
    let mut child = Killed(child);
    wait_for_next(&listener, &mut child.0, Instant::now())?;
    drop(child);
    let text = std::fs::read_to_string(&trace).context("reading strace's output")?;
    let _ = std::fs::remove_file(&trace);
    let runtime_port = format!("sin_port=htons({})", address.port());
    let mut connects = Connects {
        runtime_api: 0,
        local: Vec::new(),
        foreign: Vec::new(),
    };
    for line in text.lines().filter(|line| line.contains("connect(")) {
        if line.contains("AF_UNIX") {
            let path = line
                .split("sun_path=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or("?")
                .to_owned();
            if !connects.local.contains(&path) {
                connects.local.push(path);
            }
        } else if line.contains(&runtime_port) && line.contains("127.0.0.1") {
            connects.runtime_api += 1;
        } else if line.contains("AF_INET") {
            let call = line.split("connect(").nth(1).unwrap_or(line);
            connects.foreign.push(format!("connect({}", call.trim()));
        }
    }
    Ok(connects)
}

/// The parts of template.yaml a function's environment comes from: parameter defaults,
/// Globals' variables and each function's own, by binary name.
struct Template {
    parameters: BTreeMap<String, String>,
    globals: Vec<(String, String)>,
    functions: BTreeMap<String, Vec<(String, String)>>,
    /// A JWT secret for this run (the template's is a parameter without a default).
    secret: String,
}

impl Template {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut template = Template {
            parameters: BTreeMap::new(),
            globals: Vec::new(),
            functions: BTreeMap::new(),
            secret: random_secret()?,
        };
        let mut section = "";
        let mut parameter = None;
        let mut resource_vars: Vec<(String, String)> = Vec::new();
        let mut resource_binary: Option<String> = None;
        // The indentation of the `Variables:` being read, if one is.
        let mut variables_indent: Option<usize> = None;
        let mut functions: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for line in text.lines() {
            let trimmed = line.trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = line.len() - trimmed.len();
            if indent == 0 {
                if let Some(binary) = resource_binary.take() {
                    functions.insert(binary, std::mem::take(&mut resource_vars));
                }
                section = trimmed.trim_end_matches(':');
                variables_indent = None;
                continue;
            }
            if let Some(vars_indent) = variables_indent {
                if indent > vars_indent {
                    if let Some((key, value)) = trimmed.split_once(':') {
                        let pair = (key.trim().to_owned(), value.trim().to_owned());
                        match section {
                            "Globals" => template.globals.push(pair),
                            "Resources" => resource_vars.push(pair),
                            _ => {}
                        }
                    }
                    continue;
                }
                variables_indent = None;
            }
            match section {
                "Parameters" if indent == 2 => {
                    parameter = Some(trimmed.trim_end_matches(':').to_owned());
                }
                "Parameters" if indent == 4 => {
                    if let (Some(name), Some(default)) =
                        (parameter.as_ref(), trimmed.strip_prefix("Default:"))
                    {
                        template
                            .parameters
                            .insert(name.clone(), unquote(default.trim()).to_owned());
                    }
                }
                "Resources" if indent == 2 => {
                    if let Some(binary) = resource_binary.take() {
                        functions.insert(binary, std::mem::take(&mut resource_vars));
                    }
                    resource_vars.clear();
                }
                _ => {}
            }
            if let Some(binary) = trimmed.strip_prefix("Binary:") {
                resource_binary = Some(binary.trim().to_owned());
            }
            if trimmed == "Variables:" {
                variables_indent = Some(indent);
            }
        }
        if let Some(binary) = resource_binary.take() {
            functions.insert(binary, resource_vars);
        }
        template.functions = functions;
        if template.globals.is_empty() || template.functions.is_empty() {
            bail!("no Globals variables or no functions found in the template");
        }
        Ok(template)
    }

    /// The function's variables (Globals', then its own), with values resolved.
    fn environment(&self, binary: &str) -> anyhow::Result<Vec<(String, String)>> {
        let own = self
            .functions
            .get(binary)
            .with_context(|| format!("no function with Binary: {binary} in the template"))?;
        Ok(self
            .globals
            .iter()
            .chain(own)
            .map(|(name, value)| (name.clone(), self.resolve(name, value)))
            .collect())
    }

    /// A variable's value: literals as written, `!Ref` to a parameter its default (to a
    /// resource, a name standing for it), `!Sub` with parameters and pseudo parameters
    /// substituted.
    fn resolve(&self, name: &str, value: &str) -> String {
        if name == "JWT_SECRET" {
            return self.secret.clone();
        }
        if let Some(reference) = value.strip_prefix("!Ref ") {
            let reference = reference.trim();
            return self
                .parameters
                .get(reference)
                .cloned()
                .unwrap_or_else(|| format!("huddle-{}", reference.to_ascii_lowercase()));
        }
        if let Some(pattern) = value.strip_prefix("!Sub ") {
            let mut out = String::new();
            let mut rest = unquote(pattern.trim());
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let Some(end) = rest[start..].find('}') else {
                    break;
                };
                let key = &rest[start + 2..start + end];
                out.push_str(&match key {
                    "AWS::Region" => "us-east-1".to_owned(),
                    "AWS::URLSuffix" => "amazonaws.com".to_owned(),
                    "AWS::AccountId" => "123456789012".to_owned(),
                    other => self
                        .parameters
                        .get(other)
                        .cloned()
                        .unwrap_or_else(|| "abcdef0123".to_owned()),
                });
                rest = &rest[start + end + 1..];
            }
            out.push_str(rest);
            return out;
        }
        unquote(value).to_owned()
    }
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// 48 random bytes, URL-safe base64 (as `scripts/lib.sh` makes local secrets).
fn random_secret() -> anyhow::Result<String> {
    use base64::Engine;
    let mut bytes = [0u8; 48];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
