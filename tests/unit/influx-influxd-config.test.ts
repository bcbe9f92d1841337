import { describe, expect, it } from "vitest";
import { layoutOf, renderInfluxdConfig } from "../../scripts/influxd/config.ts";

describe("renderInfluxdConfig", () => {
  const toml = renderInfluxdConfig({ dataDir: "/srv/city/influx", httpPort: 18086, rpcPort: 18088 });

  it("keeps all state inside the data dir", () => {
    expect(toml).toContain('dir = "/srv/city/influx/meta"');
    expect(toml).toContain('dir = "/srv/city/influx/data"');
    expect(toml).toContain('wal-dir = "/srv/city/influx/wal"');
    expect(toml).not.toContain("/var/lib/influxdb");
  });

  it("binds HTTP and the RPC service to loopback on the given ports", () => {
    expect(toml).toMatch(/^bind-address = "127\.0\.0\.1:18088"$/m);
    expect(toml).toMatch(/\[http\][^[]*bind-address = "127\.0\.0\.1:18086"/);
  });

  it("turns off reporting and the listeners we do not use", () => {
    expect(toml).toContain("reporting-disabled = true");
    expect(toml).toMatch(/\[ifql\]\s+enabled = false/);
    expect(toml).toMatch(/\[monitor\]\s+(#.*\s+)*store-enabled = false/);
  });

  it("escapes paths for TOML", () => {
    expect(renderInfluxdConfig({ dataDir: 'C:\\a"b', httpPort: 1, rpcPort: 2 })).toContain(
      'dir = "C:\\\\a\\"b/meta"',
    );
  });

  it("puts config, log and pid file in the data dir", () => {
    expect(layoutOf("/d")).toEqual({
      dataDir: "/d",
      configPath: "/d/influxd.toml",
      logPath: "/d/influxd.log",
      pidPath: "/d/influxd.pid",
    });
  });
});
