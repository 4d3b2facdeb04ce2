// Test runner settings: every suite runs real Pi sessions against a scripted model, so give them room.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
	// Builtin workflows import the package by name, as user workflows do.
	resolve: {
		alias: { "pi-workflows": fileURLToPath(new URL("./extensions/workflows/authoring/index.ts", import.meta.url)) },
	},
	test: {
		include: ["tests/**/*.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		typecheck: { enabled: true, include: ["tests/**/*.test-d.ts"] },
	},
});
