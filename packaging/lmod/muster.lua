-- Lmod modulefile for muster, installed as <prefix>/share/modulefiles/muster/<version>.lua.
-- The prefix is found from this file's own path, so the tree works wherever it was unpacked or installed:
--   module use <prefix>/share/modulefiles; module load muster
local version = myModuleVersion()
local prefix = myFileName():match("^(.*)/share/modulefiles/[^/]+/[^/]+%.lua$")
if not prefix then
  LmodError("muster: this modulefile must lie at <prefix>/share/modulefiles/muster/<version>.lua, not at "
    .. myFileName())
end

whatis("Name: muster")
whatis("Version: " .. version)
whatis("Description: step barrier, rendezvous and exec for the tasks of an HPC job step")

help([[
muster ]] .. version .. [[ makes the tasks of an HPC job step start together and find each other:

  srun muster run -- ./my_program args      no task starts before all have arrived
  srun java -javaagent:$MUSTER_AGENT -jar app.jar
  muster local -n 4 -- hostname             try it on one machine, without Slurm
  man muster                                every command: man muster-run, muster-rendezvous, ...

Needs a Java >= 17 (true exec, same PID, on Java >= 22). muster uses, in this order: MUSTER_JAVA (a java
binary), JAVA_HOME, the Java it was installed with, the newest JDK under /usr/lib/jvm, java on PATH.

Sets PATH, MANPATH, XDG_DATA_DIRS (bash completion), MUSTER_HOME (the prefix) and MUSTER_AGENT (the agent jar).
Documentation: ]] .. prefix .. [[/share/doc/muster
]])

prepend_path("PATH", pathJoin(prefix, "bin"))
prepend_path("MANPATH", pathJoin(prefix, "share/man"))
-- bash-completion looks for share/bash-completion/completions/muster under XDG_DATA_DIRS, whose unset default
-- is /usr/local/share:/usr/share: keep that default when adding to it.
if (os.getenv("XDG_DATA_DIRS") or "") == "" then
  append_path("XDG_DATA_DIRS", "/usr/local/share")
  append_path("XDG_DATA_DIRS", "/usr/share")
end
prepend_path("XDG_DATA_DIRS", pathJoin(prefix, "share"))
setenv("MUSTER_HOME", prefix)
setenv("MUSTER_AGENT", pathJoin(prefix, "lib/muster-agent.jar"))
