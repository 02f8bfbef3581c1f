# Spack recipe for muster. The copy in the repository is a template: scripts/dist writes
# target/dist/spack/muster/package.py with the version and sha256 of the tarball it has just made
# (@VERSION@, @SHA256@; the download location from MUSTER_RELEASE_URL). Not exercised by the test suite
# (no Spack here): a test compiles the generated file and checks its version, checksum and file list.
from spack.package import *


class Muster(Package):
    """Step barrier, rendezvous and exec for the tasks of an HPC job step: every task waits until all have
    arrived, jobs find each other through hpc-compose-compatible rendezvous records, and the real program is
    exec'd with the task's PID. Includes a -javaagent for JVM programs."""

    homepage = "@URL@"
    url = "@URL@/muster-@VERSION@.tar.gz"

    version("@VERSION@", sha256="@SHA256@")

    # Runs on any Java >= 17; true exec (same PID) on Java >= 22.
    depends_on("java@17:", type="run")

    def install(self, spec, prefix):
        # The tarball is an installed prefix already (bin/, lib/, share/): relocatable, nothing to build.
        install_tree(".", prefix)

    def setup_run_environment(self, env):
        env.set("MUSTER_HOME", self.prefix)
        env.set("MUSTER_AGENT", join_path(self.prefix.lib, "muster-agent.jar"))
        env.set("MUSTER_JAVA", join_path(self.spec["java"].prefix.bin, "java"))
