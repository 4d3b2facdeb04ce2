// The builtin workflows, for programmatic use: `import { reviewChange } from "pi-workflows/builtin"`.

export { default as reviewChange } from "./review-change.js";
