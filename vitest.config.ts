// Test runner settings: every suite runs real Pi sessions against a scripted model, so give them room.
// `PI_WORKFLOWS_PI_LINE=latest` (set by `npm run test:pi-latest`) runs the same suite on the Pi 1.x line.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import { activePiLine, piLineAliases } from "./scripts/pi-line.js";

const exact = (name: string) => new RegExp(`^${name.replace(/[/.]/g, "\\$&")}$`);

export default defineConfig({
	resolve: {
		alias: [
			// Builtin workflows import the package by name, as user workflows do.
			{
				find: exact("pi-workflows"),
				replacement: fileURLToPath(new URL("./extensions/workflows/authoring/index.ts", import.meta.url)),
			},
			...Object.entries(piLineAliases()).map(([name, path]) => ({ find: exact(name), replacement: path })),
		],
	},
	test: {
		include: ["tests/**/*.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		typecheck: {
			enabled: true,
			include: ["tests/**/*.test-d.ts"],
			tsconfig: activePiLine() === "latest" ? "tsconfig.pi-latest.json" : "tsconfig.json",
		},
	},
});
