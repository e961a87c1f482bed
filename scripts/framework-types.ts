/**
 * Type declarations for the elements in React 19 JSX, Vue templates and Svelte, generated from the
 * widget's Custom Elements Manifest (dist/custom-elements.json: each element's tag, its attributes
 * with their types, its events with their `CustomEvent<…>` types, from the JSDoc of widget/elements/).
 * scripts/custom-elements.ts writes them to dist/types/frameworks/ after the manifest:
 *
 *   elements.d.ts   every element's class, attributes and events (LatchElements)
 *   react.d.ts      `latch/types/react`:  React.JSX.IntrinsicElements, listeners as `onlatch-login`
 *   vue.d.ts        `latch/types/vue`:    Vue's GlobalComponents, listeners as `@latch-login`
 *   svelte.d.ts     `latch/types/svelte`: svelte/elements' SvelteHTMLElements, `onlatch-login` (and `on:latch-login`)
 *
 * A type name the manifest uses must be one that the widget's declarations export
 * (dist/types/widget/index.d.ts), or the build fails: a name that resolved to nothing would make an
 * attribute or an event `any` in every framework (examples/frameworks/ checks they are not).
 */

interface TypeText {
  text: string;
}
interface Attribute {
  name: string;
  type?: TypeText;
  description?: string;
}
interface CemEvent {
  name: string;
  type?: TypeText;
  description?: string;
}
interface Declaration {
  name: string;
  tagName?: string;
  summary?: string;
  attributes?: Attribute[];
  events?: CemEvent[];
}
export interface Manifest {
  modules: { path: string; declarations?: Declaration[] }[];
}

/** Attributes every framework already types on every element. */
const GLOBAL_ATTRIBUTES = new Set(['lang']);
/** Type names that need no import. */
const BUILT_IN = new Set(['CustomEvent', 'Event', 'Record', 'Partial', 'Readonly']);

const HEADER = '// Generated from dist/custom-elements.json by scripts/framework-types.ts. Do not edit.\n';

function doc(text: string | undefined, indent: string): string {
  if (!text) return '';
  return `${indent}/** ${text.replace(/\*\//g, '*\\/').replace(/\s*\n\s*/g, ' ')} */\n`;
}

/** `LatchLoginMode | null` → `LatchLoginMode`: every attribute is optional already. */
function attributeType(type: TypeText | undefined, where: string): string {
  if (!type) throw new Error(`framework-types: ${where} has no type in the manifest (give it one: @attr {type} name)`);
  const parts = type.text.split('|').map((p) => p.trim()).filter((p) => p !== 'null' && p !== 'undefined');
  return parts.join(' | ');
}

/** The declarations, by file name, for the manifest's elements. `widgetExports`: the names dist/types/widget/index.d.ts exports. */
export function frameworkTypes(manifest: Manifest, widgetExports: ReadonlySet<string>): Record<string, string> {
  const elements = manifest.modules.flatMap((m) => m.declarations ?? []).filter((d): d is Declaration & { tagName: string } => !!d.tagName);
  elements.sort((a, b) => a.tagName.localeCompare(b.tagName));
  if (elements.length === 0) throw new Error('framework-types: the manifest has no elements');

  const used = new Set<string>();
  const blocks: string[] = [];
  const entries: string[] = [];
  for (const element of elements) {
    used.add(element.name);
    const base = element.name.replace(/Element$/, '');
    const attributes = (element.attributes ?? []).filter((a) => !GLOBAL_ATTRIBUTES.has(a.name));
    const attributeLines = attributes.map((a) => {
      const type = attributeType(a.type, `<${element.tagName}>'s attribute ${a.name}`);
      return `${doc(a.description, '  ')}  ${/^[a-z]\w*$/i.test(a.name) ? a.name : `'${a.name}'`}?: ${type};\n`;
    });
    const eventLines = (element.events ?? []).map((e) => {
      if (!e.type) throw new Error(`framework-types: <${element.tagName}>'s event ${e.name} has no type in the manifest (give it one: @event {CustomEvent<Detail>} name)`);
      return `${doc(e.description, '  ')}  '${e.name}': ${e.type.text};\n`;
    });
    for (const text of [...attributeLines, ...eventLines]) {
      for (const [name] of text.replace(/\/\*\*[\s\S]*?\*\//g, '').replace(/'[^']*'/g, '').matchAll(/\b[A-Z]\w*/g)) if (!BUILT_IN.has(name)) used.add(name);
    }
    blocks.push(
      `/** \`<${element.tagName}>\`'s attributes. */\nexport interface ${base}Attributes {\n${attributeLines.join('')}}\n\n` +
        `/** \`<${element.tagName}>\`'s events, by name. */\nexport interface ${base}Events {\n${eventLines.join('')}}\n`,
    );
    entries.push(`${doc(element.summary, '  ')}  '${element.tagName}': { element: ${element.name}; attributes: ${base}Attributes; events: ${base}Events };\n`);
  }
  const missing = [...used].filter((name) => !widgetExports.has(name));
  if (missing.length > 0) throw new Error(`framework-types: the manifest uses types the widget does not export (widget/index.ts): ${missing.join(', ')}`);
  const tags = elements.map((e) => e.tagName);

  const elementsFile =
    `${HEADER}import type { ${[...used].sort().join(', ')} } from '../widget/index.js';\n\n${blocks.join('\n')}\n` +
    `/** Every Latch element: its class, its attributes and its events. */\nexport interface LatchElements {\n${entries.join('')}}\n\n` +
    `/** A Latch element's tag name. */\nexport type LatchTagName = keyof LatchElements;\n`;

  const react =
    `${HEADER}/**\n * Latch's elements in React 19 JSX: \`import type {} from 'latch/types/react';\` once in the project.\n` +
    ` * React 19 sets a prop as a property where the element has one (\`mode\`), else as an attribute\n` +
    ` * (\`return-to\`), and listens to an event for a prop named \`on\` + its name: \`onlatch-login\`.\n */\n` +
    `import type { DetailedHTMLProps, HTMLAttributes } from 'react';\nimport type { LatchElements, LatchTagName } from './elements.js';\n\n` +
    `/** \`on<event name>\` listeners, e.g. \`onlatch-login\`. */\nexport type LatchReactListeners<Tag extends LatchTagName> = {\n  [Name in keyof LatchElements[Tag]['events'] as \`on\${Name & string}\`]?: (event: LatchElements[Tag]['events'][Name]) => void;\n};\n\n` +
    `/** A Latch element's props: React's for any element, its attributes, its listeners. */\nexport type LatchReactProps<Tag extends LatchTagName> = DetailedHTMLProps<HTMLAttributes<LatchElements[Tag]['element']>, LatchElements[Tag]['element']> &\n  LatchElements[Tag]['attributes'] &\n  LatchReactListeners<Tag>;\n\n` +
    `declare module 'react' {\n  namespace JSX {\n    interface IntrinsicElements {\n${tags.map((t) => `      '${t}': LatchReactProps<'${t}'>;\n`).join('')}    }\n  }\n}\n`;

  const vue =
    `${HEADER}/**\n * Latch's elements in Vue templates (vue-tsc, Volar): \`import type {} from 'latch/types/vue';\` once in\n` +
    ` * the project (e.g. in env.d.ts), and tell Vue they are custom elements\n` +
    ` * (\`compilerOptions.isCustomElement: (tag) => tag.startsWith('latch-')\`). Listeners: \`@latch-login\`.\n */\n` +
    `import type { EmitFn, HTMLAttributes, PublicProps } from 'vue';\nimport type { LatchElements, LatchTagName } from './elements.js';\n\n` +
    `/** A Latch element as Vue's type checker sees a component: its props and its emits, on the element's own type. */\n` +
    `export type LatchVueElement<Tag extends LatchTagName> = new () => LatchElements[Tag]['element'] & {\n` +
    `  /** For template type checking only: not a property of the element. */\n  $props: HTMLAttributes & LatchElements[Tag]['attributes'] & PublicProps;\n` +
    `  /** For template type checking only: not a property of the element. */\n  $emit: EmitFn<{ [Name in keyof LatchElements[Tag]['events']]: (event: LatchElements[Tag]['events'][Name]) => void }>;\n};\n\n` +
    `declare module 'vue' {\n  interface GlobalComponents {\n${tags.map((t) => `    '${t}': LatchVueElement<'${t}'>;\n`).join('')}  }\n}\n`;

  const svelte =
    `${HEADER}/**\n * Latch's elements in Svelte (svelte-check): \`import type {} from 'latch/types/svelte';\` once in the\n` +
    ` * project (e.g. in src/app.d.ts). Listeners: \`onlatch-login\` (Svelte 5), \`on:latch-login\` (Svelte 4).\n */\n` +
    `import type { HTMLAttributes } from 'svelte/elements';\nimport type { LatchElements, LatchTagName } from './elements.js';\n\n` +
    `type Listeners<Tag extends LatchTagName, Prefix extends string> = {\n  [Name in keyof LatchElements[Tag]['events'] as \`\${Prefix}\${Name & string}\`]?: (event: LatchElements[Tag]['events'][Name]) => void;\n};\n\n` +
    `/** A Latch element's attributes in Svelte: any element's, its own, its listeners. */\nexport type LatchSvelteAttributes<Tag extends LatchTagName> = HTMLAttributes<LatchElements[Tag]['element']> &\n  LatchElements[Tag]['attributes'] &\n  Listeners<Tag, 'on'> &\n  Listeners<Tag, 'on:'>;\n\n` +
    `declare module 'svelte/elements' {\n  interface SvelteHTMLElements {\n${tags.map((t) => `    '${t}': LatchSvelteAttributes<'${t}'>;\n`).join('')}  }\n}\n`;

  return { 'elements.d.ts': elementsFile, 'react.d.ts': react, 'vue.d.ts': vue, 'svelte.d.ts': svelte };
}

/** The names a declaration file exports (`export { A, type B }`, `export type { C }`, `export interface D`...). */
export function exportedNames(dts: string): Set<string> {
  const names = new Set<string>();
  for (const [, list] of dts.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
    for (const item of list!.split(',')) {
      const name = item.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop()!.trim();
      if (name) names.add(name);
    }
  }
  for (const [, name] of dts.matchAll(/export\s+(?:declare\s+)?(?:interface|type|class|const|function|enum)\s+(\w+)/g)) names.add(name!);
  return names;
}
