//! Writes the benchmark corpus to a directory:
//! `cargo run --release -p switchyard-testkit --bin gen_corpus -- DIR [FLAGS] [SEGMENTS] [FILES]`
//! (defaults 10000 flags, 1000 segments, 100 files).

use switchyard_testkit::corpus;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first() else {
        eprintln!("usage: gen_corpus DIR [FLAGS] [SEGMENTS] [FILES]");
        std::process::exit(2);
    };
    let num = |i: usize, d: usize| args.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let files = corpus::generate(num(1, 10_000), num(2, 1_000), num(3, 100));
    for f in &files {
        let path = std::path::Path::new(dir).join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, &f.text)?;
    }
    eprintln!("wrote {} files to {dir}", files.len());
    Ok(())
}
