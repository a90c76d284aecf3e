//! The emitted CUDA C compiles, without a GPU: one NVRTC program holding every operation under `Sum`,
//! every reduction on one formula over both axes, both data types, all three sum schemes (and the
//! `double` accumulator for `float` data), compiled to PTX for `compute_90`, then assembled by
//! `ptxas -arch=sm_90 -v`, whose register and spill counts are printed.
//!
//! NVRTC and ptxas come from the PyPI wheels installed by `.ci/gpu-wheels.sh`; point `KEOPS_NVRTC_DIR`
//! at the folder it prints (`scripts/nvrtc-check.sh` does both). Without it the test says it was
//! skipped and passes. With `KEOPS_NVRTC_KEEP` set, the source, PTX and cubin stay in a temporary folder.
#![cfg(unix)]
#![allow(unsafe_code)]

use std::collections::{BTreeMap, HashSet};
use std::ffi::{CStr, CString, c_char, c_int, c_void};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use keops_gpu_kernels::{
    CudaKernel, CudaOptions, Dtype, NVRTC_OPTIONS, cuda_program, cuda_source, samples,
};
use keops_ir::{Alias, Kernel, Reduction};
use libloading::Library;

type Program = *mut c_void;
type Status = c_int;

/// NVRTC, loaded at run time from the wheel's `lib` folder.
struct Nvrtc {
    lib: Library,
    // Loaded first with RTLD_GLOBAL so that NVRTC's own dlopen of its builtins finds it without
    // LD_LIBRARY_PATH (the wheel's libnvrtc has no RPATH); kept alive as long as `lib`.
    _builtins: Option<Library>,
}

fn find(dir: &Path, prefix: &str) -> Option<PathBuf> {
    let mut hits: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    hits.sort();
    hits.into_iter().next()
}

impl Nvrtc {
    fn load(lib_dir: &Path) -> Nvrtc {
        let builtins = find(lib_dir, "libnvrtc-builtins.so").map(|p| {
            use libloading::os::unix::{Library as UnixLibrary, RTLD_GLOBAL, RTLD_NOW};
            // SAFETY: loading NVRTC's builtins library runs only its (trusted, NVIDIA-shipped) initialisers.
            let l = unsafe { UnixLibrary::open(Some(&p), RTLD_NOW | RTLD_GLOBAL) };
            Library::from(l.unwrap_or_else(|e| panic!("cannot load {}: {e}", p.display())))
        });
        let path = find(lib_dir, "libnvrtc.so").unwrap_or_else(|| {
            panic!(
                "no libnvrtc.so* in {} (run .ci/gpu-wheels.sh)",
                lib_dir.display()
            )
        });
        // SAFETY: as above, libnvrtc's initialisers only.
        let lib = unsafe { Library::new(&path) }
            .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
        Nvrtc {
            lib,
            _builtins: builtins,
        }
    }

    /// A symbol of NVRTC with the C signature `T`.
    fn sym<T: Copy>(&self, name: &str) -> T {
        let cname = format!("{name}\0");
        // SAFETY: every call site names an NVRTC function with `T` its exact C signature (nvrtc.h).
        unsafe {
            *self
                .lib
                .get::<T>(cname.as_bytes())
                .unwrap_or_else(|e| panic!("no `{name}` in NVRTC: {e}"))
        }
    }

    fn error(&self, status: Status) -> String {
        let f: unsafe extern "C" fn(Status) -> *const c_char = self.sym("nvrtcGetErrorString");
        // SAFETY: nvrtcGetErrorString returns a static NUL-terminated string for any status.
        let s = unsafe { CStr::from_ptr(f(status)) };
        format!("{} ({status})", s.to_string_lossy())
    }

    fn version(&self) -> (i32, i32) {
        let f: unsafe extern "C" fn(*mut c_int, *mut c_int) -> Status = self.sym("nvrtcVersion");
        let (mut major, mut minor) = (0, 0);
        // SAFETY: two valid out-pointers.
        let st = unsafe { f(&mut major, &mut minor) };
        assert_eq!(st, 0, "nvrtcVersion: {}", self.error(st));
        (major, minor)
    }

    /// Compiles `source` to PTX: `Ok((ptx, log))` or `Err(log)`.
    fn compile(
        &self,
        source: &str,
        name: &str,
        options: &[String],
    ) -> Result<(String, String), String> {
        type Create = unsafe extern "C" fn(
            *mut Program,
            *const c_char,
            *const c_char,
            c_int,
            *const *const c_char,
            *const *const c_char,
        ) -> Status;
        type Compile = unsafe extern "C" fn(Program, c_int, *const *const c_char) -> Status;
        type Size = unsafe extern "C" fn(Program, *mut usize) -> Status;
        type Get = unsafe extern "C" fn(Program, *mut c_char) -> Status;
        type Destroy = unsafe extern "C" fn(*mut Program) -> Status;
        let create: Create = self.sym("nvrtcCreateProgram");
        let compile: Compile = self.sym("nvrtcCompileProgram");
        let log_size: Size = self.sym("nvrtcGetProgramLogSize");
        let get_log: Get = self.sym("nvrtcGetProgramLog");
        let ptx_size: Size = self.sym("nvrtcGetPTXSize");
        let get_ptx: Get = self.sym("nvrtcGetPTX");
        let destroy: Destroy = self.sym("nvrtcDestroyProgram");

        let src = CString::new(source).expect("no NUL in the source");
        let cname = CString::new(name).expect("no NUL in the name");
        let opts: Vec<CString> = options
            .iter()
            .map(|o| CString::new(o.as_str()).expect("no NUL"))
            .collect();
        let opt_ptrs: Vec<*const c_char> = opts.iter().map(|o| o.as_ptr()).collect();
        let mut prog: Program = std::ptr::null_mut();
        // SAFETY: valid NUL-terminated strings that outlive the call, no headers.
        let st = unsafe {
            create(
                &mut prog,
                src.as_ptr(),
                cname.as_ptr(),
                0,
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(st, 0, "nvrtcCreateProgram: {}", self.error(st));
        // SAFETY: `prog` was created above; the option pointers are valid for the call.
        let st = unsafe { compile(prog, opt_ptrs.len() as c_int, opt_ptrs.as_ptr()) };
        let read = |size: Size, get: Get| -> String {
            let mut n = 0usize;
            // SAFETY: `prog` is live; `buf` has the size NVRTC reported (including the NUL).
            unsafe {
                assert_eq!(size(prog, &mut n), 0);
                let mut buf = vec![0u8; n.max(1)];
                assert_eq!(get(prog, buf.as_mut_ptr().cast()), 0);
                CStr::from_bytes_until_nul(&buf)
                    .map(|c| c.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }
        };
        let log = read(log_size, get_log);
        let out = if st == 0 {
            Ok((read(ptx_size, get_ptx), log))
        } else {
            Err(format!("nvrtcCompileProgram: {}\n{log}", self.error(st)))
        };
        // SAFETY: `prog` is live and destroyed once.
        let st = unsafe { destroy(&mut prog) };
        assert_eq!(st, 0, "nvrtcDestroyProgram: {}", self.error(st));
        out
    }
}

/// The source lines an NVRTC log points at (`name(LINE): error: ...`), with two lines of context.
fn offending_lines(log: &str, name: &str, source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    let mut shown = HashSet::new();
    for l in log.lines() {
        let Some(rest) = l.strip_prefix(&format!("{name}(")) else {
            continue;
        };
        let Some(n) = rest.split(')').next().and_then(|n| n.parse::<usize>().ok()) else {
            continue;
        };
        if !shown.insert(n) {
            continue;
        }
        out.push_str(&format!("--- {l}\n"));
        let first = n.saturating_sub(3);
        for (k, text) in lines.iter().enumerate().skip(first).take(n + 2 - first) {
            let mark = if k + 1 == n { ">" } else { " " };
            out.push_str(&format!("{mark}{:6} | {text}\n", k + 1));
        }
    }
    out
}

/// ptxas `-v` figures of one entry point.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    registers: u32,
    stack: u32,
    spill_stores: u32,
    spill_loads: u32,
}

/// Parses `ptxas -v` output into per-function figures.
fn parse_ptxas(out: &str) -> BTreeMap<String, Usage> {
    let mut map: BTreeMap<String, Usage> = BTreeMap::new();
    let mut current: Option<String> = None;
    let num_before = |s: &str, what: &str| -> Option<u32> {
        let i = s.find(what)?;
        s[..i].trim_end().rsplit([' ', ',']).next()?.parse().ok()
    };
    for line in out.lines() {
        if let Some(rest) = line.split("Compiling entry function '").nth(1) {
            current = rest.split('\'').next().map(str::to_string);
        } else if let Some(rest) = line.split("Function properties for ").nth(1) {
            current = Some(rest.trim().to_string());
        } else if let Some(name) = &current {
            let u = map.entry(name.clone()).or_default();
            if line.contains("stack frame") {
                u.stack = num_before(line, "bytes stack frame").unwrap_or(0);
                u.spill_stores = num_before(line, "bytes spill stores").unwrap_or(0);
                u.spill_loads = num_before(line, "bytes spill loads").unwrap_or(0);
            } else if let Some(r) = num_before(line, "registers") {
                u.registers = r;
            }
        }
    }
    map
}

/// The kernels of the check, labelled.
fn kernels() -> Vec<(String, CudaKernel)> {
    samples::coverage()
        .into_iter()
        .map(|c| (c.label.clone(), c.cuda()))
        .collect()
}

/// The benchmark kernel: Gaussian `Sum`, D = 3, Dv = 2, axis 1, default options.
fn gaussian(dtype: Dtype) -> CudaKernel {
    let al = ["x = Vi(3)", "y = Vj(3)", "b = Vj(2)"].map(|a| Alias::parse(a).unwrap());
    let k = Kernel::build("Exp(-SqDist(x, y)) * b", None, &al, Reduction::Sum, 1).unwrap();
    cuda_source(&k, dtype, &CudaOptions::new())
}

#[test]
fn emitted_kernels_compile_with_nvrtc_and_ptxas() {
    let Some(dir) = std::env::var_os("KEOPS_NVRTC_DIR").filter(|d| !d.is_empty()) else {
        println!("skipped: KEOPS_NVRTC_DIR not set");
        return;
    };
    let dir = PathBuf::from(dir);
    let lib_dir = dir.join("nvidia/cu13/lib");
    let ptxas = dir.join("nvidia/cu13/bin/ptxas");
    assert!(
        ptxas.exists(),
        "no ptxas at {} (run .ci/gpu-wheels.sh)",
        ptxas.display()
    );
    let nvrtc = Nvrtc::load(&lib_dir);
    let (major, minor) = nvrtc.version();
    println!("NVRTC {major}.{minor} from {}", lib_dir.display());

    let mut all = kernels();
    let gauss = [gaussian(Dtype::F32), gaussian(Dtype::F64)];
    all.extend(
        gauss
            .iter()
            .map(|g| (format!("Gaussian Sum {}", g.dtype), g.clone())),
    );
    let source = cuda_program(all.iter().map(|(_, k)| k));
    let names: HashSet<&str> = all.iter().map(|(_, k)| k.name.as_str()).collect();
    println!(
        "{} kernels ({} distinct), {} lines of CUDA C",
        all.len(),
        names.len(),
        source.lines().count()
    );

    let name = "keops_nvrtc_check.cu";
    let mut options: Vec<String> = NVRTC_OPTIONS.iter().map(|s| s.to_string()).collect();
    options.push("--gpu-architecture=compute_90".into());
    let t = Instant::now();
    let (ptx, log) = match nvrtc.compile(&source, name, &options) {
        Ok(r) => r,
        Err(log) => panic!(
            "NVRTC failed:\n{log}\n{}",
            offending_lines(&log, name, &source)
        ),
    };
    let nvrtc_time = t.elapsed();
    if !log.trim().is_empty() {
        println!(
            "NVRTC log:\n{log}\n{}",
            offending_lines(&log, name, &source)
        );
    }
    assert!(!log.contains("warning"), "NVRTC warnings (see above)");

    let tmp = std::env::temp_dir().join(format!("keops-nvrtc-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let ptx_path = tmp.join("check.ptx");
    std::fs::write(&ptx_path, &ptx).unwrap();
    let t = Instant::now();
    let run = Command::new(&ptxas)
        .args(["-arch=sm_90", "-v"])
        .arg(&ptx_path)
        .arg("-o")
        .arg(tmp.join("check.cubin"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", ptxas.display()));
    let ptxas_time = t.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    if !run.status.success() {
        panic!(
            "ptxas failed ({}), PTX kept at {}:\n{text}",
            run.status,
            ptx_path.display()
        );
    }
    if std::env::var_os("KEOPS_NVRTC_KEEP").is_some() {
        std::fs::write(tmp.join("check.cu"), &source).unwrap();
        println!(
            "KEOPS_NVRTC_KEEP: source, PTX and cubin kept in {}",
            tmp.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&tmp);
    }

    let usage = parse_ptxas(&text);
    for n in &names {
        assert!(
            usage.contains_key(*n),
            "ptxas did not report `{n}`:\n{text}"
        );
    }
    let label_of = |n: &str| {
        all.iter()
            .find(|(_, k)| k.name == n)
            .map_or("?", |(l, _)| l.as_str())
    };
    println!(
        "NVRTC {:.2} s, ptxas {:.2} s ({} KiB of PTX)",
        nvrtc_time.as_secs_f64(),
        ptxas_time.as_secs_f64(),
        ptx.len() / 1024
    );
    println!("Gaussian kernels: {}, {}", gauss[0].name, gauss[1].name);
    println!(
        "{:<48} {:>5} {:>6} {:>13}",
        "kernel", "regs", "stack", "spill st/ld"
    );
    let row = |label: &str, u: &Usage| {
        println!(
            "{:<48} {:>5} {:>6} {:>6}/{:<6}",
            label, u.registers, u.stack, u.spill_stores, u.spill_loads
        )
    };
    for g in &gauss {
        row(
            &format!("Gaussian Sum D=3 Dv=2 {}", g.dtype),
            &usage[&g.name],
        );
    }
    let mut by_regs: Vec<(&String, &Usage)> = usage
        .iter()
        .filter(|(n, _)| names.contains(n.as_str()))
        .collect();
    by_regs.sort_by_key(|(_, u)| std::cmp::Reverse(u.registers));
    println!("-- most registers:");
    for (n, u) in by_regs.iter().take(5) {
        row(label_of(n), u);
    }
    let spilling: Vec<_> = by_regs
        .iter()
        .filter(|(_, u)| u.spill_stores + u.spill_loads > 0)
        .collect();
    println!("-- {} kernels spill:", spilling.len());
    for (n, u) in &spilling {
        row(label_of(n), u);
    }
    for g in &gauss {
        let u = usage[&g.name];
        assert_eq!(
            u.spill_stores + u.spill_loads,
            0,
            "the Gaussian {} kernel spills",
            g.dtype
        );
    }
}
