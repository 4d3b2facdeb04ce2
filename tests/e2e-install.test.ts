// Installed the way people install it, then run through the real `pi` CLI of the line under test: from the
// npm tarball without peer dependencies (what Pi's own installer does), and with the README's install commands
// on a fresh copy of the repository. npm takes packages from its cache when it has them (the registry otherwise).

import { execFileSync } from "node:child_process";
import {
	copyFileSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPiSandbox, PACKAGE_ROOT, PI_CLI, type PiSandbox } from "./support/pi-cli.js";

const ANSWER_BY_STAGE = `export const script = (r) => "answer of " + r.stage;`;

const NPM_ENV = {
	...process.env,
	npm_config_prefer_offline: "true",
	npm_config_audit: "false",
	npm_config_fund: "false",
	npm_config_update_notifier: "false",
	npm_config_loglevel: "error",
};

/** A project workflow that needs every module a workflow file may import without having it installed. */
const CHECKED_WORKFLOW = `import { workflow } from "pi-workflows";
import { Type } from "typebox";
import { Compile } from "typebox/compile";
import { Value } from "typebox/value";

export default workflow({
	name: "checked",
	description: "greets, then checks the answer with typebox/value and typebox/compile",
	inputs: { who: Type.String() },
	outputs: { text: Type.String(), checked: Type.Boolean() },
	run: async (ctx) => {
		const greeting = await ctx.task("greet", { prompt: "Greet " + ctx.inputs.who });
		const checked = Value.Check(Type.String(), greeting.text) && Compile(Type.String()).Check(greeting.text);
		return { text: greeting.text, checked };
	},
});
`;

function writeCheckedWorkflow(cwd: string): void {
	mkdirSync(join(cwd, ".pi/workflows"), { recursive: true });
	writeFileSync(join(cwd, ".pi/workflows/checked.ts"), CHECKED_WORKFLOW);
}

function npm(args: string[], cwd: string): string {
	return execFileSync("npm", args, { cwd, env: NPM_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** Runs the checked workflow headless and returns its report. */
async function runChecked(sandbox: PiSandbox): Promise<{ status: string; outputs?: unknown; errors: string[] }> {
	writeCheckedWorkflow(sandbox.cwd);
	const result = await sandbox.run(["-p", "/workflow run checked who=world", "--trust-workflows"]);
	const match = /workflow run \S+ (\S+) (\S+report\.json)/.exec(result.stdout);
	if (!match) throw new Error(`no summary line (exit ${result.code}): ${result.stdout}${result.stderr}`);
	return JSON.parse(readFileSync(match[2] as string, "utf8"));
}

/** The repository as a fresh clone of it holds it: tracked and not ignored files, as they are now. */
function copyRepository(into: string): void {
	const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
		cwd: PACKAGE_ROOT,
		encoding: "utf8",
	})
		.split("\0")
		.filter((file) => file && existsSync(join(PACKAGE_ROOT, file)));
	for (const file of files) {
		mkdirSync(dirname(join(into, file)), { recursive: true });
		copyFileSync(join(PACKAGE_ROOT, file), join(into, file));
	}
}

/** The fenced block that follows `<!-- name: ... -->` in the README. */
function readmeBlock(name: string): string {
	const readme = readFileSync(join(PACKAGE_ROOT, "README.md"), "utf8");
	const block = new RegExp(`<!-- ${name}:[^>]*-->\\n\`\`\`bash\\n([\\s\\S]*?)\`\`\``).exec(readme);
	if (!block) throw new Error(`README.md has no bash block marked <!-- ${name}: ... -->`);
	return block[1] as string;
}

describe("installed as people install it", () => {
	let sandbox: PiSandbox | undefined;
	let scratch: string | undefined;
	afterEach(() => {
		sandbox?.cleanup();
		if (scratch) rmSync(scratch, { recursive: true, force: true });
		sandbox = undefined;
		scratch = undefined;
	});

	it("from its npm tarball without peer dependencies, as Pi installs packages, runs a project workflow", async () => {
		scratch = mkdtempSync(join(tmpdir(), "pi-workflows-pack-"));
		npm(["pack", "--pack-destination", scratch], PACKAGE_ROOT);
		const tarball = readdirSync(scratch).find((name) => name.endsWith(".tgz"));
		expect(tarball).toBeDefined();
		const prefix = join(scratch, "prefix");
		npm(["install", "--prefix", prefix, "--legacy-peer-deps", join(scratch, tarball as string)], scratch);
		const modules = join(prefix, "node_modules");
		// Peers stay out, so the extension can only use what the host hands it.
		expect(existsSync(join(modules, "typebox"))).toBe(false);
		expect(existsSync(join(modules, "@mariozechner"))).toBe(false);

		sandbox = createPiSandbox(ANSWER_BY_STAGE, { workflows: join(modules, "pi-workflows") });
		const list = await sandbox.run(["-p", "/workflow list"]);
		expect(list.stdout).toContain("review-change");
		expect(list.stdout).not.toContain("ERROR");
		const report = await runChecked(sandbox);
		expect(report.errors).toEqual([]);
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ text: "answer of greet", checked: true });
	});

	it("with the README's install commands, run as written on a fresh clone", async () => {
		sandbox = createPiSandbox(ANSWER_BY_STAGE, { workflows: "settings" });
		const clone = join(sandbox.root, "pi-workflows");
		copyRepository(clone);
		const cloneLine = /^git clone <repository-url> pi-workflows/m;
		const block = readmeBlock("install-from-clone");
		expect(block).toMatch(cloneLine);
		// `pi` is the CLI of the line under test, on the Node running this suite.
		const script = `pi() { "$PI_NODE" "$PI_CLI" "$@"; }\n${block.replace(cloneLine, ": cloned above")}`;
		execFileSync("bash", ["-euo", "pipefail", "-c", script], {
			cwd: sandbox.root,
			env: { ...NPM_ENV, ...sandbox.env, PI_NODE: process.execPath, PI_CLI },
			stdio: ["ignore", "pipe", "pipe"],
		});
		const settings = JSON.parse(readFileSync(join(sandbox.agentDir, "settings.json"), "utf8"));
		expect(settings.packages).toHaveLength(1);
		expect(existsSync(join(clone, "node_modules", "nanoid"))).toBe(true);
		expect(existsSync(join(clone, "node_modules", "typebox"))).toBe(false);

		const report = await runChecked(sandbox);
		expect(report.errors).toEqual([]);
		expect(report.status).toBe("completed");
		expect(report.outputs).toEqual({ text: "answer of greet", checked: true });
	});
});
