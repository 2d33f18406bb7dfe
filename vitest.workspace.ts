export default ["packages/*", "examples", "scripts"]
