-- Every (R, F) cell of the 5 x 5 grid maps to exactly one segment: returns missing or doubled cells.
with grid as (
    select r.r_score, f.f_score
    from range(1, 6) as r(r_score) cross join range(1, 6) as f(f_score)
),

mapped as (
    select r_score, f_score, count(*) as segments
    from {{ ref('rfm_segments') }}
    group by r_score, f_score
)

select grid.r_score, grid.f_score, coalesce(mapped.segments, 0) as segments
from grid
left join mapped using (r_score, f_score)
where coalesce(mapped.segments, 0) <> 1
