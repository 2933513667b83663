// Lint rules that catch real defects; style is left to the formatter of each editor.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    // The engine runs under plain Node: it never imports electron or the renderer.
    files: ['electron/engine/**/*.ts', 'db/**/*.ts', 'cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The engine runs under plain Node; Electron stays in electron/adapters.' }],
        patterns: [{ group: ['**/renderer/**'], message: 'The engine never imports the renderer.' }],
      }],
    },
  },
  {
    files: ['db/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'db/ runs under plain Node.' }],
        patterns: [{ group: ['**/engine/**'], message: 'db/ must not import the engine: the engine calls the stores.' }],
      }],
    },
  },
  {
    // The windows see only electron/common (types and pure helpers) and what the preload exposes.
    files: ['renderer/**/*.mts', 'renderer/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The renderer talks to the main process only through the preload API.' }],
        patterns: [
          { group: ['**/engine/**', '**/db/**', '**/installer/**', '**/cli/**', '**/shell/**'], message: 'The renderer imports only electron/common.' },
          { group: ['node:*'], message: 'The renderer is sandboxed: no Node modules.' },
        ],
      }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
