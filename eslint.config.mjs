// Lint rules that catch real defects, and the layer rules of the house: every import points down.
//   contract → kernel → db, installer → engine → authoring → electron, cli   (renderer: contract only)
// Style is left to the formatter of each editor.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ELECTRON = { name: 'electron', message: 'Only electron/ (main, preload, menu, adapters) imports Electron: everything below runs under plain Node.' };
const above = (floors, why) => ({ group: floors.map((f) => `**/${f}/**`), message: why });

/** Folder → what it must not import. */
const LAYERS = [
  ['contract', [ELECTRON], [above(['kernel', 'db', 'installer', 'engine', 'authoring', 'electron', 'cli', 'renderer'], 'contract/ is the bottom floor, shared with the renderer.'), { group: ['node:*'], message: 'contract/ is shared with the sandboxed renderer: no Node modules.' }]],
  ['kernel', [ELECTRON], [above(['db', 'installer', 'engine', 'authoring', 'electron', 'cli', 'renderer'], 'kernel/ stands on contract/ only.')]],
  ['db', [ELECTRON], [above(['installer', 'engine', 'authoring', 'electron', 'cli', 'renderer'], 'db/ stands on contract/ and kernel/ only: the engine calls the stores.')]],
  ['installer', [ELECTRON], [above(['db', 'engine', 'authoring', 'electron', 'cli', 'renderer'], 'installer/ stands on contract/ and kernel/ only: the privileged helper must stay small.')]],
  ['engine', [ELECTRON], [above(['authoring', 'electron', 'cli', 'renderer'], 'engine/ runs under plain Node below the vendor tools, Electron and the CLI.')]],
  ['authoring', [ELECTRON], [above(['electron', 'cli', 'renderer'], 'authoring/ (the vendor tools) runs under plain Node.')]],
  ['builder', [ELECTRON], [above(['db', 'installer', 'engine', 'authoring', 'electron', 'cli', 'renderer'], 'builder/ runs inside the vendor\'s electron-builder: it stands on contract/ and kernel/ only.')]],
  ['cli', [ELECTRON], [above(['electron', 'renderer'], 'The CLI runs under plain Node.')]],
];

export default tseslint.config(
  { ignores: ['build/**', 'node_modules/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.mts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', {
        selector: "CallExpression[callee.property.name=/^(raw|whereRaw|joinRaw|orderByRaw|havingRaw)$/] > TemplateLiteral[expressions.length>0]",
        message: 'Interpolated raw SQL: pass values as bindings.',
      }],
    },
  },
  ...LAYERS.map(([folder, paths, patterns]) => ({
    files: [`${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { paths, patterns }] },
  })),
  {
    // Inside electron/, only the entry, preload, menu and adapters touch Electron; shell/ is plain Node (tested in Chromium).
    files: ['electron/shell/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [ELECTRON], patterns: [above(['cli', 'renderer'], 'The shell session runs under plain Node.')] }] },
  },
  {
    // The windows see only contract/ (types and pure helpers) and what the preload exposes.
    files: ['renderer/**/*.mts', 'renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The renderer talks to the main process only through the preload API.' }],
        patterns: [
          above(['kernel', 'db', 'installer', 'engine', 'authoring', 'electron', 'cli', 'shell'], 'The renderer imports only contract/.'),
          { group: ['node:*'], message: 'The renderer is sandboxed: no Node modules.' },
        ],
      }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
