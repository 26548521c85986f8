"""What the MPI tests share (test_mpi_sdesim.py, test_mpi_scorefit.py)."""
import os


def rank_pid(executable, target, rank):
    """The pid of `executable`'s process of MPI rank `rank` whose command line names `target`
    (found through /proc: OpenMPI sets OMPI_COMM_WORLD_RANK in each rank's environment), or None."""
    want = f"OMPI_COMM_WORLD_RANK={rank}".encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if cmdline[0] == executable.encode() and target.encode() in cmdline and want in environ:
            return int(pid)
    return None
