module.exports = { ...require('../../jest.preset.cjs'), displayName: 'store', rootDir: __dirname, testTimeout: 60000 };
