//! The batch-cluster files in deploy/: the Slurm scripts are valid bash and, run by hand with
//! the variables a job array sets, shard and merge a sweep; the Kubernetes manifests are YAML
//! with what an Indexed Job needs, and their commands shard and merge a sweep too; the
//! Dockerfile is multi-stage. (Neither Slurm nor Docker nor Kubernetes runs here:
//! deploy/slurm/try-locally.sh runs the scripts on a real one-node Slurm cluster.)

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::support::temp;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("kendall")
}

fn assert_success(output: &std::process::Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn the_slurm_scripts_are_valid_bash() {
    for script in ["sweep.sbatch", "merge.sbatch", "try-locally.sh"] {
        let path = repository().join("deploy/slurm").join(script);
        let output = Command::new("bash").arg("-n").arg(&path).output().expect("bash runs");
        assert_success(&output, script);
    }
}

#[test]
fn the_slurm_scripts_shard_and_merge_a_sweep() {
    let dir = temp();
    let out = dir.path().join("study");
    let script = |name: &str| repository().join("deploy/slurm").join(name);
    for (task, id) in [(0, "1"), (1, "2")] {
        let output = Command::new("bash")
            .arg(script("sweep.sbatch"))
            .arg(&out)
            .args(["scenarios/mm1.toml", "--vary", "load=0.5,1", "--replications", "3", "--duration", "200s"])
            .env("KENDALL", binary())
            .env("SLURM_ARRAY_TASK_ID", id)
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_COUNT", "2")
            .current_dir(repository())
            .output()
            .expect("bash runs");
        assert_success(&output, &format!("task {task}"));
        assert!(out.join(format!("shards/shard-{task:04}-of-0002.json")).is_file());
    }
    let merge = Command::new("bash").arg(script("merge.sbatch")).arg(&out).env("KENDALL", binary()).output();
    assert_success(&merge.expect("bash runs"), "merge");
    assert!(out.join("sweep.json").is_file() && out.join("report.html").is_file());
}

fn manifest(name: &str) -> Vec<Yaml> {
    let path = repository().join("deploy/k8s").join(name);
    let text = fs::read_to_string(&path).expect("the manifest exists");
    YamlLoader::load_from_str(&text).unwrap_or_else(|error| panic!("{name} is not YAML: {error}"))
}

fn job<'a>(documents: &'a [Yaml], name: &str) -> &'a Yaml {
    documents
        .iter()
        .find(|doc| doc["kind"].as_str() == Some("Job") && doc["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no Job {name}"))
}

fn strings(node: &Yaml) -> Vec<String> {
    node.as_vec().expect("a list").iter().map(|item| item.as_str().expect("a string").to_owned()).collect()
}

/// The value after `flag` in `args`.
fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args.iter().position(|arg| arg == flag).unwrap_or_else(|| panic!("no {flag} in {args:?}"));
    &args[at + 1]
}

/// The claim the pod spec `pod` mounts at `/work`.
fn work_claim(pod: &Yaml) -> String {
    let container = &pod["containers"][0];
    let mount = container["volumeMounts"]
        .as_vec()
        .expect("mounts")
        .iter()
        .find(|m| m["mountPath"].as_str() == Some("/work"));
    let volume = mount.expect("a volume at /work")["name"].as_str().expect("a name");
    let volumes = pod["volumes"].as_vec().expect("volumes");
    let entry = volumes.iter().find(|v| v["name"].as_str() == Some(volume)).expect("the mounted volume");
    entry["persistentVolumeClaim"]["claimName"].as_str().expect("a claim").to_owned()
}

#[test]
fn the_kubernetes_manifests_are_an_indexed_job_on_a_shared_volume_and_a_merge() {
    let sweep_documents = manifest("sweep-job.yaml");
    let sweep = job(&sweep_documents, "kendall-sweep");
    assert_eq!(sweep["apiVersion"].as_str(), Some("batch/v1"));
    let spec = &sweep["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().expect("completions, a number");
    let parallelism = spec["parallelism"].as_i64().expect("parallelism, a number");
    assert!(completions >= 1 && (1..=completions).contains(&parallelism));
    let pod = &spec["template"]["spec"];
    assert!(matches!(pod["restartPolicy"].as_str(), Some("Never" | "OnFailure")), "an Indexed Job's pods");
    let args = strings(&pod["containers"][0]["args"]);
    assert_eq!(after(&args, "--shard"), "auto");
    assert_eq!(after(&args, "--shards"), completions.to_string(), "--shards is the number of completions");
    let claim = work_claim(pod);
    let pvc = sweep_documents
        .iter()
        .find(|doc| doc["kind"].as_str() == Some("PersistentVolumeClaim"))
        .expect("the shared volume's claim");
    assert_eq!(pvc["metadata"]["name"].as_str(), Some(claim.as_str()));
    assert!(
        strings(&pvc["spec"]["accessModes"]).contains(&"ReadWriteMany".to_owned()),
        "shared by every pod"
    );

    let merge_documents = manifest("merge-job.yaml");
    let merge = &job(&merge_documents, "kendall-merge")["spec"]["template"]["spec"];
    assert_eq!(work_claim(merge), claim);
    let merge_args = strings(&merge["containers"][0]["args"]);
    assert_eq!(merge_args[0], "merge");
    assert_eq!(merge_args[1], after(&args, "--out"), "the merge reads where the shards write");
    assert_eq!(merge["containers"][0]["workingDir"], pod["containers"][0]["workingDir"]);
    assert_runs(&args, &merge_args, completions);
}

/// Runs every pod's command of the Indexed Job (shorter: --replications 2 --duration 200s)
/// from the repository (the image's working directory holds scenarios/ too), with /work in a
/// temporary directory, then the merge's.
fn assert_runs(args: &[String], merge_args: &[String], completions: i64) {
    let dir = temp();
    let work = |arg: &String| arg.replace("/work", &dir.path().display().to_string());
    let mut short: Vec<String> = args.iter().map(work).collect();
    *short.iter_mut().skip_while(|arg| *arg != "--replications").nth(1).expect("--replications N") =
        "2".to_owned();
    short.extend(["--duration".to_owned(), "200s".to_owned()]);
    for index in 0..completions {
        let output = Command::new(binary())
            .args(&short)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .current_dir(repository())
            .output()
            .expect("kendall runs");
        assert_success(&output, &format!("pod {index}"));
    }
    let merge = Command::new(binary()).args(merge_args.iter().map(work)).current_dir(repository()).output();
    assert_success(&merge.expect("kendall runs"), "the merge pod");
    assert!(Path::new(&work(&"/work/out/sweep.json".to_owned())).is_file());
}

#[test]
fn the_dockerfile_builds_in_one_stage_and_runs_from_a_small_one() {
    let text = fs::read_to_string(repository().join("Dockerfile")).expect("a Dockerfile");
    let stages: Vec<&str> = text.lines().filter(|line| line.starts_with("FROM ")).collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages[0].contains(" AS build"));
    assert!(text.contains("COPY --from=build /src/target/release/kendall /usr/local/bin/kendall"));
    assert!(text.contains("ENTRYPOINT [\"/usr/local/bin/kendall\"]"));
    for needed in ["Cargo.lock", "src", "assets", "benches"] {
        assert!(
            text.contains(&format!("COPY {needed}")) || text.contains(&format!(" {needed} ")),
            "{needed}"
        );
    }
}
