from collections.abc import Callable

def chars(textpage: int, functions: tuple[int, ...], left: float, top: float,
          object_info: Callable[[int, int | None], tuple[bool, float, float | None]]
          ) -> list[tuple[str, float, float, float, float, bool]]: ...

def words(textpage: int, functions: tuple[int, ...], left: float, top: float,
          object_info: Callable[[int, int | None], tuple[bool, float, float | None]]
          ) -> list[tuple[str, tuple[float, float, float, float]]]: ...
