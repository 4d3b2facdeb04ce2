// Runs the real `pi` CLI offline: an isolated agent dir, the scripted provider extension, this
// package loaded with -e, and a script module that decides every model answer.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ScriptedRequest } from "../../extensions/workflows/testing/scripted-provider.js";
import { piCliPath } from "../../scripts/pi-line.js";

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_ROOT = resolve(here, "..", "..");
const PI_CLI = piCliPath();
const PROVIDER_EXTENSION = join(here, "scripted-provider-extension.ts");

export interface PiResult {
	code: number | null;
	/** The signal that ended the process (SIGKILL when a test killed it), else null. */
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

/** A pi process started with `start`: kill it through `child`; `done` settles once it has exited. */
export interface PiProcess {
	child: ChildProcess;
	/** Output so far. */
	stdout(): string;
	stderr(): string;
	readonly exited: boolean;
	done: Promise<PiResult>;
}

export interface PiSandbox {
	root: string;
	cwd: string;
	agentDir: string;
	/** Runs pi to its exit with the given arguments. */
	run(args: string[], options?: PiRunOptions): Promise<PiResult>;
	/** Starts pi with the given arguments and returns at once, so a test can watch it and kill it. */
	start(args: string[], options?: PiRunOptions): PiProcess;
	/** Arguments common to every pi invocation (extensions and model). */
	baseArgs: string[];
	env: NodeJS.ProcessEnv;
	/** Model requests made so far by every pi process of this sandbox. */
	calls(): ScriptedRequest[];
	cleanup(): void;
}

export interface PiRunOptions {
	env?: Record<string, string>;
	/** Where pi runs (default: the sandbox's project). */
	cwd?: string;
}

export interface PiSandboxOptions {
	/** How pi loads pi-workflows: `-e <folder>` (default: this checkout), or "settings": as a package the agent
	 * dir's settings list, the way `pi install` leaves it (then no other extension is switched off). */
	workflows?: string;
}

/** `script` is the source of a module exporting `script: Script`. */
export function createPiSandbox(scriptSource: string, options: PiSandboxOptions = {}): PiSandbox {
	const root = mkdtempSync(join(tmpdir(), "pi-workflows-e2e-"));
	const cwd = join(root, "project");
	const agentDir = join(root, "agent");
	mkdirSync(cwd, { recursive: true });
	mkdirSync(agentDir, { recursive: true });
	const scriptFile = join(root, "script.mjs");
	writeFileSync(scriptFile, scriptSource);
	const callsFile = join(root, "calls.jsonl");
	const env: NodeJS.ProcessEnv = {
		...process.env,
		PI_CODING_AGENT_DIR: agentDir,
		PI_OFFLINE: "1",
		PI_WORKFLOWS_TEST_SCRIPT: scriptFile,
		PI_WORKFLOWS_TEST_CALLS: callsFile,
	};
	const workflows = options.workflows ?? PACKAGE_ROOT;
	const baseArgs = [
		...(workflows === "settings" ? [] : ["--no-extensions"]),
		"-e",
		PROVIDER_EXTENSION,
		...(workflows === "settings" ? [] : ["-e", workflows]),
		"--model",
		"scripted/fast",
		"--no-session",
	];
	const start = (args: string[], options?: PiRunOptions): PiProcess => {
		const child = spawn(process.execPath, [PI_CLI, ...baseArgs, ...args], {
			cwd: options?.cwd ?? cwd,
			env: { ...env, ...options?.env },
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		let exited = false;
		child.stdout?.on("data", (chunk) => {
			stdout += chunk;
		});
		child.stderr?.on("data", (chunk) => {
			stderr += chunk;
		});
		const done = new Promise<PiResult>((resolvePromise, reject) => {
			child.on("error", reject);
			child.on("close", (code, signal) => {
				exited = true;
				resolvePromise({ code, signal, stdout, stderr });
			});
		});
		return {
			child,
			stdout: () => stdout,
			stderr: () => stderr,
			get exited() {
				return exited;
			},
			done,
		};
	};
	return {
		root,
		cwd,
		agentDir,
		baseArgs,
		env,
		start,
		run: (args, options) => start(args, options).done,
		calls: () =>
			existsSync(callsFile)
				? readFileSync(callsFile, "utf8")
						.split("\n")
						.filter(Boolean)
						.map((line) => JSON.parse(line))
				: [],
		cleanup: () => rmSync(root, { recursive: true, force: true }),
	};
}

export { PI_CLI };

/** A sandbox whose `stage` holds until the test creates the file `gate`, so a running stage can be observed;
 * every stage answers "answer of <stage>". */
export function createGatedPiSandbox(stage: string): PiSandbox & { gate: string } {
	const sandbox = createPiSandbox("");
	const gate = join(sandbox.root, "gate");
	writeFileSync(
		join(sandbox.root, "script.mjs"),
		`import { existsSync } from "node:fs";
export const script = async (r) => {
	if (r.stage === ${JSON.stringify(stage)}) while (!existsSync(${JSON.stringify(gate)})) await new Promise((done) => setTimeout(done, 10));
	return "answer of " + r.stage;
};`,
	);
	return { ...sandbox, gate };
}

/** Writes `.pi/workflows/hello.ts`, a project workflow with one stage `greet` prompted with `greeting`. */
export function writeProjectWorkflow(cwd: string, greeting: string): string {
	mkdirSync(join(cwd, ".pi/workflows"), { recursive: true });
	const file = join(cwd, ".pi/workflows/hello.ts");
	writeFileSync(
		file,
		[
			'import { workflow } from "pi-workflows";',
			"export default workflow({",
			'  name: "hello", description: "greets", inputs: {}, outputs: {},',
			`  run: async (ctx) => { await ctx.task("greet", { prompt: "${greeting}" }); return {}; },`,
			"});",
		].join("\n"),
	);
	return file;
}
