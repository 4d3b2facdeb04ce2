// Test runner settings: every suite runs real Pi sessions against a scripted model, so give them room.
import { defineConfig } from "vitest/config";

export default defineConfig({
	test: {
		include: ["tests/**/*.test.ts"],
		testTimeout: 60_000,
		hookTimeout: 60_000,
		typecheck: { enabled: true, include: ["tests/**/*.test-d.ts"] },
	},
});
