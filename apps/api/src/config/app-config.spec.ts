import { ConfigError, loadConfig } from './app-config';

describe('CORS_ORIGINS', () => {
  it('refuses * (CORS is answered with credentials: any site could read the API as the signed-in user)', () => {
    expect(() => loadConfig({ CORS_ORIGINS: '*' })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example.com,*' })).toThrow(/^Invalid configuration: CORS_ORIGINS may not be \*/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://*.example.com' })).toThrow(/CORS_ORIGINS must be a comma-separated list of http\(s\) origins/);
    expect(() => loadConfig({ CORS_ORIGINS: 'https://a.example.com/path' })).toThrow(/CORS_ORIGINS must be/);
  });

  it('accepts a list of origins, and none by default', () => {
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example.com, http://localhost:5173' }).corsOrigins).toEqual(['https://a.example.com', 'http://localhost:5173']);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});
