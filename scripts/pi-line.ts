// Which Pi line this checkout's tests, demo and bench run against. The default is the devDependency
// (`@mariozechner/pi-coding-agent` 0.73.1, Node 20); `PI_WORKFLOWS_PI_LINE=latest` selects the 1.x line
// pinned in .ci/pi-latest/package.json (`@earendil-works/pi-coding-agent`, Node 22). Our code imports
// `@mariozechner/*` on both lines; on the latest line those names resolve exactly as Pi 1.x's own
// extension loader resolves them, so in-process tests see the modules an installed extension sees.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export type PiLine = "0.73" | "latest";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Folder holding the pinned 1.x line (its package.json is the one place its version is set). */
export const PI_LATEST_DIR = join(REPO_ROOT, ".ci", "pi-latest");
const LATEST_MODULES = join(PI_LATEST_DIR, "node_modules");
const LATEST_AGENT = join(LATEST_MODULES, "@earendil-works", "pi-coding-agent");

export function activePiLine(env: NodeJS.ProcessEnv = process.env): PiLine {
	const line = env.PI_WORKFLOWS_PI_LINE;
	if (line === undefined || line === "" || line === "0.73") return "0.73";
	if (line === "latest") return "latest";
	throw new Error(`PI_WORKFLOWS_PI_LINE: expected "0.73" or "latest", got ${JSON.stringify(line)}`);
}

/** The `pi` CLI of a line: the file its package's `bin` points at. */
export function piCliPath(line: PiLine = activePiLine()): string {
	if (line === "0.73") return join(REPO_ROOT, "node_modules", "@mariozechner", "pi-coding-agent", "dist", "cli.js");
	return requireInstalled(join(LATEST_AGENT, "dist", "bundle", "cli.js"));
}

/**
 * Module aliases for the latest line: the same map Pi 1.x's loader applies to extensions (`@mariozechner/pi-ai`
 * is its extension view: pi-ai's compat entry plus TypeBox's `Type` and a TypeBox `StringEnum`), and the
 * host's own typebox. Empty on the 0.73.1 line, where the names resolve to the devDependencies.
 */
export function piLineAliases(line: PiLine = activePiLine()): Record<string, string> {
	if (line === "0.73") return {};
	const agentDist = join(LATEST_AGENT, "dist");
	const earendil = (name: string, entry: string) => join(LATEST_MODULES, "@earendil-works", name, "dist", entry);
	const typebox = join(LATEST_MODULES, "typebox", "build");
	return {
		"@mariozechner/pi-coding-agent": requireInstalled(join(agentDist, "index.js")),
		"@mariozechner/pi-agent-core": requireInstalled(earendil("pi-agent-core", "index.js")),
		"@mariozechner/pi-tui": requireInstalled(earendil("pi-tui", "index.js")),
		"@mariozechner/pi-ai": requireInstalled(join(agentDist, "core", "extensions", "pi-ai-extension-view.js")),
		"typebox/value": requireInstalled(join(typebox, "value", "index.mjs")),
		"typebox/compile": requireInstalled(join(typebox, "compile", "index.mjs")),
		typebox: requireInstalled(join(typebox, "index.mjs")),
	};
}

function requireInstalled(path: string): string {
	if (existsSync(path)) return path;
	throw new Error(
		`The Pi 1.x line is not installed (missing ${path}): run \`npm run test:pi-latest\` once to install it`,
	);
}
