// Latch's elements in templates. At run time, tell Vue they are custom elements (vite.config.ts):
// vue({ template: { compilerOptions: { isCustomElement: (tag) => tag.startsWith('latch-') } } })
import type {} from 'latch/types/vue';
