// `npm install` prints no install-scripts warnings: every dependency the lock file says has an install script is
// decided in package.json's allowScripts (denied: none of them is needed), so a new one shows up here first.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

function read(path: string): Record<string, unknown> {
	return JSON.parse(readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8"));
}

it.each([
	["the package", "../package-lock.json", "../package.json"],
	["the Pi 1.x line's folder", "../.ci/pi-latest/package-lock.json", "../.ci/pi-latest/package.json"],
])("%s: every dependency with an install script is decided in allowScripts", (_where, lockFile, packageFile) => {
	const lock = read(lockFile) as { packages: Record<string, { hasInstallScript?: boolean }> };
	const withScripts = Object.entries(lock.packages)
		.filter(([, entry]) => entry.hasInstallScript)
		.map(([path]) => path.replace(/^.*node_modules\//, ""));
	const decided = Object.keys((read(packageFile).allowScripts ?? {}) as Record<string, boolean>);
	expect(withScripts.filter((name) => !decided.includes(name))).toEqual([]);
});
