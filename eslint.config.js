// Lint rules. The one that matters most for the architecture: nothing in src/ imports a broker
// library; only connectors/* do (see ../shared/STYLE.md, "Dependency direction").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const brokerLibraries = ['mqtt', 'kafkajs', 'rhea', 'amqplib'];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'dist/**',
      'data/**',
      '.brokers/**',
      'coverage/**',
      '.fuzz/**',
      '.schemathesis/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: brokerLibraries.map((name) => ({
            name,
            message: 'src/ must not import a broker library; put protocol code in connectors/<type>/.',
          })),
          patterns: brokerLibraries.map((name) => ({
            group: [`${name}/*`],
            message: 'src/ must not import a broker library.',
          })),
        },
      ],
    },
  },
);
